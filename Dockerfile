# syntax=docker/dockerfile:1
# egress-warden: the admission webhook server. Node 24 runs the TypeScript sources directly
# (type stripping), so the image holds src/ and the production dependencies, nothing built.
#
#   docker build -t egress-warden:0.1.0 .
#
# Debian slim rather than alpine: the Deployment's preStop hook runs `sleep`, and glibc keeps
# the native parts of the dependency tree on their tested path.
ARG NODE_IMAGE=node:24-bookworm-slim

FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: no production dependency needs an install script, and none may run one
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force

FROM ${NODE_IMAGE}
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY src ./src
# uid/gid 1000 is the image's `node` user; numeric so kubelet can verify runAsNonRoot
USER 1000:1000
EXPOSE 8443
# exec form: node is PID 1 and receives SIGTERM itself, so the server drains on shutdown
ENTRYPOINT ["node", "/app/src/cli.ts"]
CMD ["serve", "--port", "8443", "--certs", "/etc/egress-warden/certs"]
