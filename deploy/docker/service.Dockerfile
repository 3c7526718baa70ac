# syntax=docker/dockerfile:1
# One image per service, from one Dockerfile: docker build --build-arg SERVICE=order-gateway …
# SERVICE is catalog-service, order-gateway, order-processor or payment-service. The TypeScript sources run directly
# on Node 24 (type stripping): there is no build step, only production dependencies.
#
# tests/containers/service-image.test.ts replays this file natively (COPY, RUN, CMD, HEALTHCHECK) in
# a clean copy of the repo, so what is written here is what `make test` proves works.
ARG NODE_IMAGE=node:24-alpine

# --- deps: production dependencies of one workspace, @flash/common linked in ----------------------
FROM ${NODE_IMAGE} AS deps
ARG SERVICE
WORKDIR /app
# Manifests first: this layer is rebuilt only when a dependency changes, not on every source edit.
COPY package.json package-lock.json ./
COPY services/common/package.json services/common/
COPY services/${SERVICE}/package.json services/${SERVICE}/
# The lockfile pins every version; --workspace keeps the other services', the front end's and the
# root's (test tooling) dependencies out of the image.
RUN npm ci --omit=dev --workspace services/${SERVICE} --include-workspace-root=false --ignore-scripts --no-audit --no-fund

# --- runtime ----------------------------------------------------------------------------------------
FROM ${NODE_IMAGE}
ARG SERVICE
ENV NODE_ENV=production \
    SERVICE=${SERVICE}
WORKDIR /app
# Owned by root and read-only for the user that runs the service.
COPY --from=deps /app /app
COPY services/common services/common
COPY services/${SERVICE} services/${SERVICE}
# The schema migrations: the one-shot `migrate` (this image's common runner) applies them.
COPY migrations migrations
COPY deploy/docker/healthcheck.mjs deploy/docker/healthcheck.mjs
# The service's own workspace is the working directory (as for `npm start` there); WORKDIR expands
# build arguments where CMD cannot, so CMD below is the same for every service.
WORKDIR /app/services/${SERVICE}
# The node image's unprivileged user (uid 1000).
USER node
# Readiness, not liveness: compose starts dependants only when MySQL, Redis and Kafka answer too.
# A start period of 2 minutes costs nothing where a service is ready in seconds (the first success
# ends it), and keeps a busy machine's slow start (measured ~60 s on 2 shared, saturated cores)
# from being called unhealthy, which makes compose --wait give up.
HEALTHCHECK --interval=5s --timeout=4s --start-period=120s --retries=3 CMD ["node", "/app/deploy/docker/healthcheck.mjs"]
# Node itself is PID 1 (no npm or shell wrapper), so SIGTERM reaches the service's close-with-grace
# handler: stop accepting, finish in-flight work, flush the producer, commit, disconnect.
STOPSIGNAL SIGTERM
CMD ["node", "src/server.ts"]
