import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { onRequestAsyncHookHandler } from 'fastify'
import { adminSecurity, ErrorResponse, type OperatorAuth } from '@flash/common'
import { actorOf, type AuditLog } from '../audit/audit-log.ts'
import type { Operators } from '../operators/operators.ts'
import { AuditPage, AuditQuery, NewOperator, OperatorChange, OperatorCredentials, OperatorList, OperatorParams, OperatorSession, OperatorView } from '../schemas.ts'

export interface OperatorRouteOptions {
  operators: Operators
  auth: OperatorAuth
  audit: AuditLog
  /** per client address, for sign-in (a scrypt hash each) */
  rateLimit: { max: number, timeWindow: number }
}

const errors = { '4xx': ErrorResponse, '5xx': ErrorResponse }
const tags = ['operators']

export const operatorRoutes: FastifyPluginAsyncTypebox<OperatorRouteOptions> = async (app, { operators, auth, audit, rateLimit }) => {
  const write = auth.require('write') as onRequestAsyncHookHandler
  const read = auth.require('read') as onRequestAsyncHookHandler

  app.post('/auth/operators/login', {
    config: { rateLimit },
    schema: {
      tags,
      summary: 'Operator sign-in: an access token carrying the role (admin or viewer) for every service\'s admin routes',
      description: 'A wrong password and an unknown name get the same 401 INVALID_CREDENTIALS; too many failures for one name answer 429.',
      body: OperatorCredentials,
      response: { 200: OperatorSession, ...errors }
    }
  }, async (request) => operators.login(request.body.username, request.body.password))

  app.get('/admin/operators', {
    onRequest: read,
    schema: { tags, summary: 'Every operator and its role', security: adminSecurity, response: { 200: OperatorList, ...errors } }
  }, async () => ({ items: await operators.list() }))

  app.post('/admin/operators', {
    onRequest: write,
    config: { audit: 'operator.create' },
    schema: {
      tags,
      summary: 'Create an operator (the first one with ADMIN_TOKEN, the break-glass credential)',
      security: adminSecurity,
      body: NewOperator,
      response: { 201: OperatorView, ...errors }
    }
  }, async (request, reply) => reply.code(201).send(await operators.create(request.body.username, request.body.password, request.body.role, actorOf(request))))

  app.patch('/admin/operators/:id', {
    onRequest: write,
    config: { audit: 'operator.role' },
    schema: { tags, summary: 'Give an operator another role', security: adminSecurity, params: OperatorParams, body: OperatorChange, response: { 200: OperatorView, ...errors } }
  }, async (request) => operators.setRole(request.params.id, request.body.role, actorOf(request)))

  app.get('/admin/audit', {
    onRequest: read,
    schema: {
      tags,
      summary: 'The audit log: every admin write, who did it and how it ended, newest first',
      security: adminSecurity,
      querystring: AuditQuery,
      response: { 200: AuditPage, ...errors }
    }
  }, async (request) => {
    const { page, pageSize, productId, actor } = request.query
    return { ...await audit.page({ page, pageSize, productId, actor }), page, pageSize }
  })
}
