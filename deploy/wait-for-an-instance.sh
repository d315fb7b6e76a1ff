#!/bin/sh
# The balancer's entry (docker-compose.yml): waits until at least one of the instances given as
# host:port answers GET /readyz with 200, then runs nginx in the foreground. Compose can only wait
# for all of a service's dependencies; a balancer must start serving once any instance can.
set -eu

ready() {
  for instance in "$@"; do
    if wget -q -O /dev/null -T 2 "http://$instance/readyz"; then
      echo "wait-for-an-instance: $instance is ready; starting nginx"
      return 0
    fi
  done
  return 1
}

waited=0
until ready "$@"; do
  if [ $((waited % 10)) -eq 0 ]; then echo "wait-for-an-instance: none of $* is ready yet"; fi
  waited=$((waited + 1))
  sleep 1
done
exec nginx -g 'daemon off;'
