import { Role } from './role';

/** Who is calling: the API key that authenticated the request. */
export interface Principal {
  keyId: string;
  name: string;
  role: Role;
  /** null: the key is valid for every project. */
  projectId: string | null;
}
