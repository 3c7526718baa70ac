/** OpenAPI security requirement for admin routes: an operator's access token or ADMIN_TOKEN (auth/operators.ts). */
export const adminSecurity = [{ adminToken: [] as string[] }]
