/**
 * Response schema for AdmissionReview answers. Fastify serializes with it, and drops any field it
 * does not list, so every AdmissionResponse field we set must appear here.
 *
 * There is deliberately no body schema: Ajv would strip unknown fields from request.object
 * (removeAdditional) and its messages are vaguer than the codec's.
 */
export const reviewOut = {
  type: 'object',
  required: ['apiVersion', 'kind', 'response'],
  properties: {
    apiVersion: { type: 'string' },
    kind: { type: 'string' },
    response: {
      type: 'object',
      required: ['uid', 'allowed'],
      properties: {
        uid: { type: 'string' },
        allowed: { type: 'boolean' },
        status: {
          type: 'object',
          properties: { status: { type: 'string' }, code: { type: 'integer' }, reason: { type: 'string' }, message: { type: 'string' } },
        },
        warnings: { type: 'array', items: { type: 'string' } },
        auditAnnotations: { type: 'object', additionalProperties: { type: 'string' } },
        patchType: { type: 'string' },
        patch: { type: 'string' },
      },
    },
  },
} as const;

export const problemOut = {
  type: 'object',
  properties: { statusCode: { type: 'integer' }, error: { type: 'string' }, message: { type: 'string' } },
} as const;
