# One image for every role; the role is the command (producer, worker, all, status, …).
# syntax=docker/dockerfile:1

FROM node:24-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev

FROM node:24-slim
ENV NODE_ENV=production \
    SPOTTER_JOBS_HTTP_HOST=0.0.0.0 \
    SPOTTER_JOBS_WORKER_HTTP_HOST=0.0.0.0
WORKDIR /app
COPY --from=build --chown=node:node /app/package.json ./
COPY --from=build --chown=node:node /app/node_modules ./node_modules
COPY --from=build --chown=node:node /app/dist ./dist
# The official image's unprivileged user.
USER node
EXPOSE 3000 3001
# Node is PID 1's child only under `init: true` (compose) or a pod; either way signals reach node
# directly, never through npm, so SIGTERM starts the graceful shutdown.
ENTRYPOINT []
CMD ["node", "dist/cli.js", "all"]
