import { buildSchema } from 'graphql';
import { recursiveInputTypes } from '../jit-executor';

test('finds input types that contain themselves, directly or through others', () => {
  const schema = buildSchema(`
    input Flat { a: Int }
    input Self { or: [Self!] x: Int }
    input A { b: B }
    input B { a: [A] }
    input UsesSelf { s: Self }
    type Query { f(a: Flat, s: Self, x: A, u: UsesSelf): Int }
  `);
  expect([...recursiveInputTypes(schema)].sort()).toEqual(['A', 'B', 'Self']);
});
