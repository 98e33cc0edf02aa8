# syntax=docker/dockerfile:1
# One image per service and partition, built from the repository root:
#
#   docker build --build-arg SERVICE=auth --build-arg APP_ENV=qa -t warren/auth_qa:qa-<sha> .
#
# scripts/build-images.sh runs this for every service, dev and qa (README "Deploy").
# Stages: toolchain → build (tsc: shared, then the service) and deps (production node_modules
# of that one workspace, argon2 compiled from source) → runtime (slim, non-root, plain node).

ARG NODE_IMAGE=node:20-bookworm-slim

# ---------------------------------------------------------------------------------------------
# toolchain: what node-gyp needs to compile argon2, plus the package manifests.
FROM ${NODE_IMAGE} AS toolchain
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
# argon2 is compiled from source: the prebuilt linux-x64 glibc binary it ships crashed with
# SIGSEGV on our machines (docs/decisions/0001). node-gyp-build honours this variable; the
# headers come from this Node installation instead of a download.
ENV npm_config_build_from_source=true \
    npm_config_nodedir=/usr/local \
    npm_config_audit=false \
    npm_config_fund=false \
    npm_config_update_notifier=false
WORKDIR /app
# Manifests only, so the `npm ci` layers below stay cached until a dependency changes.
COPY package.json package-lock.json ./
COPY shared/package.json shared/
COPY services/auth/package.json services/auth/
COPY services/main-backend/package.json services/main-backend/
COPY services/notification/package.json services/notification/
# Not in any image, but a workspace of the lockfile: without its manifest `npm ci` would not
# match package-lock.json.
COPY packages/client/package.json packages/client/

# ---------------------------------------------------------------------------------------------
# build: every dependency (typescript is a devDependency), then compile shared and the service.
FROM toolchain AS build
# No install scripts here: tsc needs no native addon, and the runtime's argon2 is built in deps.
# Before ARG SERVICE, so this layer does not depend on it and the classic builder (which keys
# a RUN on the build args in scope) installs once for all three services.
RUN npm ci --ignore-scripts
ARG SERVICE
RUN case "$SERVICE" in auth|main-backend|notification) ;; \
      *) echo "build arg SERVICE must be auth, main-backend or notification (got '$SERVICE')" >&2; exit 1 ;; \
    esac
COPY tsconfig.base.json ./
COPY scripts/build-workspace.mjs scripts/
COPY shared/ shared/
COPY services/${SERVICE}/ services/${SERVICE}/
# shared first: the service's build type-checks against shared/dist/*.d.ts ("warren-dist").
RUN npm run build -w shared \
 && npm run build -w "services/$SERVICE"

# ---------------------------------------------------------------------------------------------
# deps: the production dependencies of this one workspace and of @warren/shared (which it
# depends on), install scripts included, so argon2's compiled addon is in node_modules.
FROM toolchain AS deps
ARG SERVICE
# The workspaces' own node_modules exist only when a version conflict needs them; create them
# so the runtime stage can copy them unconditionally. Of argon2 only the addon just compiled
# (build/Release/argon2.node) is kept: its object files are never loaded, and without the
# shipped prebuilt binaries the crashing one can never be picked instead.
RUN npm ci --omit=dev --workspace "services/$SERVICE" --include-workspace-root=false \
 && mkdir -p shared/node_modules "services/$SERVICE/node_modules" \
 && rm -rf node_modules/argon2/build/Release/obj.target node_modules/argon2/prebuilds

# ---------------------------------------------------------------------------------------------
# runtime: no compiler, no devDependencies, no TypeScript sources.
FROM ${NODE_IMAGE} AS runtime
ARG SERVICE
WORKDIR /app
# Owned by root, readable by the service's user: the process cannot rewrite its own code.
# node_modules/@warren/shared is a relative symlink to /app/shared, kept as such by COPY.
COPY --from=deps /app/node_modules node_modules
COPY --from=deps /app/shared/package.json shared/
COPY --from=deps /app/shared/node_modules shared/node_modules
COPY --from=build /app/shared/dist shared/dist
COPY --from=deps /app/services/${SERVICE}/package.json services/${SERVICE}/
COPY --from=deps /app/services/${SERVICE}/node_modules services/${SERVICE}/node_modules
COPY --from=build /app/services/${SERVICE}/dist services/${SERVICE}/dist
COPY deploy/healthcheck.mjs deploy/

# APP_ENV is read only from here on, so the dev and the qa image of a service share every
# layer above (one npm ci, one tsc, the same files) and differ only in this metadata.
ARG APP_ENV=dev
RUN case "$APP_ENV" in dev|qa) ;; \
      *) echo "build arg APP_ENV must be dev or qa (got '$APP_ENV')" >&2; exit 1 ;; \
    esac
LABEL org.opencontainers.image.title="warren-${SERVICE}" \
      org.opencontainers.image.description="Warren ${SERVICE} service (${APP_ENV} partition)" \
      warren.service="${SERVICE}" \
      warren.app-env="${APP_ENV}"
# The service's Node options (scripts/node-options.txt; build-images.sh passes them), empty for
# most: main-backend's larger young generation.
ARG NODE_OPTIONS=""
# Every image listens on 8080 inside its container, whatever the service or partition: the
# compose files, the gateway and EXPOSE then need one number. Each service reads only its
# own variable; the others are ignored. APP_ENV is the default baked into the image (dev|qa);
# docker-compose sets it again explicitly.
ENV NODE_ENV=production \
    NODE_OPTIONS=${NODE_OPTIONS} \
    APP_ENV=${APP_ENV} \
    WARREN_SERVICE=${SERVICE} \
    MAIN_BACKEND_PORT=8080 \
    AUTH_PORT=8080 \
    NOTIFICATION_PORT=8080
USER node
WORKDIR /app/services/${SERVICE}
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "--conditions=warren-dist", "/app/deploy/healthcheck.mjs"]
# Exec form, no shell: node is PID 1 and receives SIGTERM itself (docker stop), drains and
# exits 0 (shared/src/lifecycle.ts). "warren-dist" makes @warren/shared resolve to its
# compiled dist/ (see shared/package.json); dist/main.js is relative to WORKDIR because the
# exec form cannot expand ${SERVICE}.
CMD ["node", "--conditions=warren-dist", "--enable-source-maps", "dist/main.js"]
