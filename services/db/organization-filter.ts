/**
 * Entity filter restricting every ORM query to one organization. It is on by default and has no
 * default value, so a query made without an organization scope fails instead of reading across tenants.
 */
export const organizationFilter = {
  organization: {
    name: 'organization',
    cond: (args: { organizationId: string }) => ({ organizationId: args.organizationId }),
    default: true,
  },
};
