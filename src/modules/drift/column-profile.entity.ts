import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';
import { DatasetColumn } from '../dataset/dataset-version.entity';

/** What a model version saw in production in [windowFrom, windowTo); not a GraphQL type, only read by drift reports. */
@Entity('column_profile')
export class ColumnProfile {
  @PrimaryGeneratedColumn('identity', { type: 'bigint' })
  id: string;

  @Column({ name: 'model_version_id', type: 'uuid' })
  modelVersionId: string;

  @Column({ name: 'project_id', type: 'uuid' })
  projectId: string;

  @Column({ name: 'window_from', type: 'timestamptz', precision: 3 })
  windowFrom: Date;

  @Column({ name: 'window_to', type: 'timestamptz', precision: 3 })
  windowTo: Date;

  @Column({ type: 'jsonb' })
  columns: DatasetColumn[];

  @Column({ name: 'recorded_at', type: 'timestamptz', precision: 3, default: () => 'now()' })
  recordedAt: Date;

  @Column({ name: 'recorded_by' })
  recordedBy: string;
}
