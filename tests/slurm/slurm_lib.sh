# slurm_lib.sh: shared set-up of the Slurm end-to-end scripts. Sourced with: BIN TINY_MODEL WORKDIR CLUSTER_DIR
# Uses the cluster that the CTest fixture started in CLUSTER_DIR (slurm_up.sh); when none answers there
# (the script runs on its own), starts a private one under WORKDIR and stops it on exit (trap).
# Exits 77 with the reason when no Slurm can be started.
source "$(dirname "${BASH_SOURCE[0]}")/../engine/e2e_lib.sh" "$1" "$2" "$3"
CLUSTER=$4
SLURM_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export PATH=$PATH:/usr/sbin
own_cluster=
if [ -s "$CLUSTER/env" ] && (source "$CLUSTER/env" && scontrol ping 2>/dev/null | grep -q UP); then
  source "$CLUSTER/env"
else
  own_cluster=$WORK/cluster
  trap 'bash "$SLURM_HERE/slurm_down.sh" "$own_cluster" > /dev/null' EXIT
  bash "$SLURM_HERE/slurm_up.sh" "$own_cluster"
  rc=$?
  [ $rc = 0 ] || { [ $rc = 77 ] && exit 77; echo "slurm_up.sh failed ($rc)"; exit 1; }
  source "$own_cluster/env"
fi
export SLURM_CONF

# wait_job JOBID [SECONDS]: polls scontrol every 0.3 s until the job ends; sets JSTATE and JEXIT ("4:0").
wait_job() {
  local jid=$1 limit=${2:-90} info
  JSTATE=UNKNOWN JEXIT=
  for _ in $(seq $((limit * 10 / 3))); do
    info=$(scontrol -o show job "$jid" 2>/dev/null) || { JSTATE=GONE; return 1; }
    JSTATE=$(sed -n 's/.*JobState=\([A-Z_]*\).*/\1/p' <<< "$info")
    JEXIT=$(sed -n 's/.* ExitCode=\([0-9:]*\).*/\1/p' <<< "$info")
    case $JSTATE in PENDING|CONFIGURING|RUNNING|COMPLETING|SUSPENDED|"") sleep 0.3 ;; *) return 0 ;; esac
  done
  echo "job $jid still $JSTATE after ${limit}s; cancelling it" >&2
  scancel "$jid" 2>/dev/null
  return 1
}
# wait_running JOBID: until the job runs (or ended).
wait_running() {
  for _ in $(seq 200); do
    scontrol -o show job "$1" 2>/dev/null | grep -Eq 'JobState=(RUNNING|COMPLETED|FAILED|CANCELLED)' && return 0
    sleep 0.1
  done
  return 1
}
expect_eq() { if [ "$1" = "$2" ]; then ok "$3 ($2)"; else bad "$3: '$2', expected '$1'"; fi; }
