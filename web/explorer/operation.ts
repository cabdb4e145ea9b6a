import { Kind, parse } from 'graphql';

/**
 * The operation name to send with `query`. GraphiQL parses the operation name out of the editor
 * 100 ms after the last edit (a debounce) and sends the name it has then, with the editor's text
 * as it is now: a run right after an edit (a quick Ctrl-Enter, or a browser driven by a test)
 * sent the new document under the old document's name, which the server refused ("Unknown
 * operation named ..."). A name the document does not define is dropped, so a document with one
 * operation runs that one, and one with several asks which. A document that does not parse goes
 * as it is, for the server to say why.
 */
export function operationNameFor(query: string, name: string | null | undefined): string | null | undefined {
  if (!name) return name;
  let names: (string | undefined)[];
  try {
    names = parse(query).definitions.flatMap((d) => (d.kind === Kind.OPERATION_DEFINITION ? [d.name?.value] : []));
  } catch {
    return name;
  }
  return names.includes(name) ? name : undefined;
}
