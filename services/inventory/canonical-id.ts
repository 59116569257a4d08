/**
 * The one spelling of an id the service generates or receives as a UUID: lower case, as PostgreSQL
 * prints a uuid. Workflow ids are built from it, so `ABC…` and `abc…` can never start two workflows for
 * the same organization or transfer. Not for free-text ids (order ids), whose case is the caller's.
 */
export const canonicalId = (id: string): string => id.toLowerCase();
