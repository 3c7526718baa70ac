# `make up` / `down` / `logs` / `ps`: the Docker Compose path (docker-compose.yml). Included from the
# Makefile. With no Docker engine reachable, `make up` says so in one line and runs `make local`.
#   make up DEBUG=1   also publishes the internal ports (deploy/docker/compose.debug.yml)
#   make logs S=order-gateway   follows one service

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

down: ## stop and remove the Compose containers (volumes kept; docker compose down -v wipes the data)
	@$(DOCKER_CHECK) || { echo "make down: no Docker engine reachable — nothing to stop (make local-down stops make local)"; exit 1; }
	@$(COMPOSE) down --remove-orphans

logs: ## follow the Compose logs (S=<service> for one)
	@$(DOCKER_CHECK) || { echo "make logs: no Docker engine reachable — make local writes .local/logs/"; exit 1; }
	@$(COMPOSE) logs -f --tail=200 $(S)

ps: ## the Compose containers and their health
	@$(DOCKER_CHECK) || { echo "make ps: no Docker engine reachable — make local-status shows the local stack"; exit 1; }
	@$(COMPOSE) ps -a
