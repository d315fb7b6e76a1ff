# syntax=docker/dockerfile:1
# Multi-stage: build with every dependency, run with production dependencies only, as a non-root user
# that can read the application but not change it.

# --- build: compile the server to JavaScript and bundle the widget ---
FROM node:24-alpine AS build
WORKDIR /app
# better-sqlite3 falls back to compiling when no prebuilt binary matches.
RUN apk add --no-cache python3 make g++
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
# `npm run build` bundles the widget (client/dist/) and compiles server and shared code to dist/.
RUN npm run build

# --- deps: production dependencies only, native modules built for the runtime image ---
FROM node:24-alpine AS deps
WORKDIR /app
RUN apk add --no-cache python3 make g++
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

# --- runtime ---
FROM node:24-alpine AS runtime
ENV NODE_ENV=production \
    PORT=3000 \
    HOST=0.0.0.0 \
    SQLITE_PATH=/app/data/comments.db
WORKDIR /app
# Owned by root, readable by everyone: the `node` user the server runs as cannot change its own code.
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/dist ./dist
COPY --from=build /app/client/dist ./client/dist
# The one writable place: the SQLite default (a volume in docker-compose.yml); with DATABASE_URL it stays empty.
RUN mkdir -p /app/data && chown node:node /app/data
USER node
EXPOSE 3000
# Readiness, probed with BusyBox wget (a few hundred kilobytes, not a second Node process): 200 while the
# store answers (Redis down is `degraded`, still 200), 503 while it does not or while shutting down.
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD wget -q -O /dev/null -T 2 "http://127.0.0.1:${PORT:-3000}/readyz" || exit 1
# Exec form: node runs as PID 1 with no shell in between, so `docker stop` (SIGTERM) reaches its graceful drain.
CMD ["node", "dist/server/main.js"]
