#!/usr/bin/env bash
# slurm_down.sh DIR: stops what slurm_up.sh DIR started, by the pids it recorded (never by name):
# slurmd, slurmctld, and munged only when slurm_up.sh started it. Always exits 0.
DIR=${1:?usage: slurm_down.sh DIR}
pidfiles=("$DIR/slurmd.pid" "$DIR/slurmctld.pid")
[ -e "$DIR/munged.started-here" ] && pidfiles+=(/run/munge/munged.pid)
for f in "${pidfiles[@]}"; do
  [ -s "$f" ] || continue
  pid=$(cat "$f")
  kill "$pid" 2>/dev/null || { rm -f "$f"; continue; }
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null
  rm -f "$f"
  echo "slurm_down: stopped $(basename "$f" .pid) ($pid)"
done
rm -f "$DIR/munged.started-here" "$DIR/env"
exit 0
