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
# Memory at 100,000 stored objects (docs/benchmark.md#memory-bytes-per-stored-object): glibc keeps
# the freed buffers of large reads unless big allocations go to mmap, which this threshold pins.
# With V8's semi-spaces capped at 8 MB below, a container run without a memory limit stays near
# 300 MB instead of 480-600 MB. Under the Deployment's 512 MiB limit Node sizes V8 from the limit
# and both change little (docs/benchmark.md#memory-under-the-deployments-limit); they cost nothing
# measured in reviews per CPU-second.
ENV NODE_ENV=production MALLOC_MMAP_THRESHOLD_=131072
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY src ./src
# uid/gid 1000 is the image's `node` user; numeric so kubelet can verify runAsNonRoot
USER 1000:1000
EXPOSE 8443
# exec form: node is PID 1 and receives SIGTERM itself, so the server drains on shutdown. V8 sizes
# its young generation for the machine's memory, not the container's: capped here, on the command
# line, so a NODE_OPTIONS set in the Deployment does not drop it.
ENTRYPOINT ["node", "--max-semi-space-size=8", "/app/src/cli.ts"]
CMD ["serve", "--port", "8443", "--certs", "/etc/egress-warden/certs"]
