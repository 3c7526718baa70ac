# `make up` / `down` / `logs` / `ps`: the Docker Compose path (docker-compose.yml). Included from the
# Makefile. With no Docker engine reachable, `make up` says so in one line and runs `make local`.
#   make up DEBUG=1   also publishes the internal ports (deploy/docker/compose.debug.yml)
#   make logs S=order-gateway   follows one service
#   make test-compose  make up … make down on a real engine, in a project of its own (tests/compose/)

.PHONY: test-compose

COMPOSE_FILES := -f docker-compose.yml $(if $(DEBUG),-f deploy/docker/compose.debug.yml)
COMPOSE := docker compose $(COMPOSE_FILES)
# One line, the same for every target, when there is nothing to talk to.
DOCKER_CHECK = docker info >/dev/null 2>&1

up: ## everything in Docker Compose: build, start, wait until healthy, print the URLs (no Docker: make local)
	@if ! $(DOCKER_CHECK); then \
	  echo "make up: no Docker engine reachable (docker info failed) — running make local instead"; \
	  $(MAKE) --no-print-directory local; \
	else \
	  COMPOSE="$(COMPOSE)" bash deploy/docker/up.sh; \
	fi

down: ## stop and remove the Compose containers (data volumes kept; docker compose down -v wipes them)
	@$(DOCKER_CHECK) || { echo "make down: no Docker engine reachable — nothing to stop (make local-down stops make local)"; exit 1; }
	@# rm --stop --volumes first: it stops in dependency order like down, and removes the anonymous
	@# volumes of any image VOLUME that docker-compose.yml does not mount (there is none today:
	@# see x-kafka-image-volumes there), which `down` alone leaves behind on every cycle. The named
	@# data volumes are kept; `down` then removes the network and orphans.
	@$(COMPOSE) rm --stop --force --volumes
	@$(COMPOSE) down --remove-orphans

logs: ## follow the Compose logs (S=<service> for one)
	@$(DOCKER_CHECK) || { echo "make logs: no Docker engine reachable — make local writes .local/logs/"; exit 1; }
	@$(COMPOSE) logs -f --tail=200 $(S)

ps: ## the Compose containers and their health
	@$(DOCKER_CHECK) || { echo "make ps: no Docker engine reachable — make local-status shows the local stack"; exit 1; }
	@$(COMPOSE) ps -a

test-compose: node ## on a Docker engine: make up, orders, scaling, second start, DEBUG=1 and back, in its own project (not in make test)
	@node tests/compose/run.ts
