# syntax=docker/dockerfile:1
# The front end: the Vite build served by nginx with the same config as `make local`
# (deploy/nginx/nginx.conf.template), proxying /api/* and /docs/* to the services.
# tests/containers/frontend-image.test.ts replays the build stage natively and runs `nginx -t` on
# the template this file copies, rendered with the values below and docker-compose.yml's.
ARG NODE_IMAGE=node:24-alpine
ARG NGINX_IMAGE=nginx:1.28-alpine

# --- build: vite build of the frontend workspace ----------------------------------------------------
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
COPY frontend/package.json frontend/
# Dev dependencies are the build tools here (vite, the Vue plugin); none of them reach the image.
RUN npm ci --workspace frontend --include-workspace-root=false --ignore-scripts --no-audit --no-fund
COPY frontend frontend
RUN npm run --workspace frontend build

# --- runtime: nginx ---------------------------------------------------------------------------------
FROM ${NGINX_IMAGE}
# The image's entrypoint renders /etc/nginx/templates/*.template with envsubst into
# NGINX_ENVSUBST_OUTPUT_DIR; only variables set in the environment are replaced, so nginx's own
# ($host, $uri, …) pass through. The upstreams, the targets and the port come from
# docker-compose.yml. The filter names the same variables as deploy/nginx/render.sh (`make local`).
# NGINX_RESOLVER: Docker's embedded DNS, on every user-defined network (compose always makes one);
# nginx asks it for the targets at request time, so recreated and scaled containers are followed.
ENV NGINX_ENVSUBST_OUTPUT_DIR=/etc/nginx \
    NGINX_ENVSUBST_FILTER='^(NGINX_PORT|CATALOG_UPSTREAM|GATEWAY_UPSTREAM|PROCESSOR_UPSTREAM|PAYMENT_UPSTREAM|CATALOG_TARGET|GATEWAY_TARGET|PROCESSOR_TARGET|PAYMENT_TARGET|NGINX_RESOLVER|NGINX_ROOT|NGINX_PID|NGINX_TEMP_DIR)$' \
    NGINX_RESOLVER=127.0.0.11 \
    NGINX_ROOT=/usr/share/nginx/html \
    NGINX_PID=/tmp/nginx.pid \
    NGINX_TEMP_DIR=/var/cache/nginx \
    NGINX_PORT=8080
COPY deploy/nginx/nginx.conf.template /etc/nginx/templates/nginx.conf.template
COPY --from=build /app/frontend/dist /usr/share/nginx/html
# Unprivileged like the services: the entrypoint must be able to write the rendered nginx.conf and
# nginx its temp files (the same arrangement as the nginx-unprivileged image). Port 8080 needs no root.
RUN rm -f /etc/nginx/conf.d/default.conf \
 && chown -R nginx:nginx /etc/nginx /var/cache/nginx \
 && chmod -R g+w /etc/nginx /var/cache/nginx
USER nginx
# Healthy = it serves the shop and reaches every service through its proxy paths (a page alone
# would stay "healthy" while every /api request answers 502): the product list, and every
# service's API document (cheap: no database behind them). The catalog's document too, since the
# product list may come from the micro-cache, stale while the catalog is unreachable. Unhealthy only after 100 s
# of failures, so a service's restart does not flap it. A `make up` that recreates the services
# behind a running nginx (DEBUG=1 and back) can outlast that on a busy machine: compose --wait
# then gives up on nginx, and up.sh waits (bounded) for this check to pass again, then checks
# these paths itself.
HEALTHCHECK --interval=5s --timeout=4s --start-period=10s --retries=20 \
  CMD for path in / '/api/products?pageSize=1' /docs/catalog/json /docs/gateway/json /docs/processor/json /docs/payments/json; do \
        wget -q -O /dev/null "http://127.0.0.1:${NGINX_PORT}$path" || exit 1; \
      done
# nginx's graceful stop: workers finish the requests they are serving.
STOPSIGNAL SIGQUIT
