#!/usr/bin/env bash
# slurm_up.sh DIR: a single-node Slurm cluster on this host for the tests: munged (unless one already
# answers), slurmctld and slurmd, with every file under DIR and ports of their own (SS_SLURM_PORT,
# default 16817, and the next one) so that a system cluster is never touched. Writes DIR/env (source it:
# SLURM_CONF) and waits until the node is idle. Exit 0 up, 77 when Slurm cannot be started here
# (not installed, not root, no munge), with the reason; it stops whatever it started before failing.
set -uo pipefail
DIR=${1:?usage: slurm_up.sh DIR}
PORT=${SS_SLURM_PORT:-16817}
skip() { echo "slurm_up: SKIP: $*"; exit 77; }
mkdir -p "$DIR" && DIR=$(cd "$DIR" && pwd)
HERE=$(cd "$(dirname "$0")" && pwd)
export SLURM_CONF=$DIR/slurm.conf

for c in slurmctld slurmd sbatch srun scontrol sinfo munge unmunge; do
  command -v $c > /dev/null || PATH=$PATH:/usr/sbin command -v $c > /dev/null || skip "$c is not installed (apt-get install slurmctld slurmd slurm-client munge)"
done
export PATH=$PATH:/usr/sbin
[ "$(id -u)" = 0 ] || skip "the test cluster runs its daemons as root; not root here"

# Already up (a previous set-up, or another test of this suite)?
if [ -s "$DIR/slurmctld.pid" ] && kill -0 "$(cat "$DIR/slurmctld.pid")" 2>/dev/null && scontrol ping 2>/dev/null | grep -q UP; then
  echo "slurm_up: already running in $DIR"; exit 0
fi

# The node line as slurmd measures it, with RealMemory lowered by 1 GiB: slurmd must never find less
# memory than configured (the node would be drained).
NODELINE=$(slurmd -C 2>/dev/null | head -1 | awk '{for(i=1;i<=NF;i++){if($i~/^RealMemory=/){split($i,a,"=");$i="RealMemory=" (a[2]>2048?a[2]-1024:a[2])}} print}')
[ -n "$NODELINE" ] || skip "slurmd -C does not describe this node"
NODE=$(sed -E 's/^NodeName=([^ ]+).*/\1/' <<< "$NODELINE")
mkdir -p "$DIR"/{state,spool,log}
cat > "$DIR/slurm.conf" <<CONF
ClusterName=sinkscopetest
SlurmctldHost=localhost
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
StateSaveLocation=$DIR/state
SlurmdSpoolDir=$DIR/spool
SlurmctldPidFile=$DIR/slurmctld.pid
SlurmdPidFile=$DIR/slurmd.pid
SlurmctldLogFile=$DIR/log/slurmctld.log
SlurmdLogFile=$DIR/log/slurmd.log
SlurmctldPort=$PORT
SlurmdPort=$((PORT + 1))
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
ReturnToService=2
SlurmctldTimeout=30
SlurmdTimeout=30
InactiveLimit=0
MinJobAge=60
KillWait=10
SchedulerType=sched/backfill
SchedulerParameters=sched_interval=2
MailProg=/bin/true
$NODELINE NodeAddr=127.0.0.1 State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
# proctrack/linuxproc + task/none: no cgroups, which containers rarely delegate.

# munge: reuse a running munged; otherwise start one (and note it, so that slurm_down.sh stops it).
rm -f "$DIR/munged.started-here"
if ! munge -n 2>/dev/null | unmunge > /dev/null 2>&1; then
  [ -s /etc/munge/munge.key ] || skip "no /etc/munge/munge.key (the munge package creates it)"
  install -d -o munge -g munge -m 0755 /run/munge 2>/dev/null || skip "cannot create /run/munge"
  runuser -u munge -- /usr/sbin/munged 2>"$DIR/log/munged.err" || skip "munged does not start: $(cat "$DIR/log/munged.err")"
  touch "$DIR/munged.started-here"
  for _ in $(seq 50); do munge -n 2>/dev/null | unmunge > /dev/null 2>&1 && break; sleep 0.1; done
fi
munge -n 2>/dev/null | unmunge > /dev/null 2>&1 || { bash "$HERE/slurm_down.sh" "$DIR"; skip "munge does not authenticate"; }

scontrol ping 2>/dev/null | grep -q UP && { bash "$HERE/slurm_down.sh" "$DIR"; skip "another slurmctld already answers on port $PORT (choose others with SS_SLURM_PORT)"; }
slurmctld -f "$DIR/slurm.conf" 2>"$DIR/log/slurmctld.err" || { bash "$HERE/slurm_down.sh" "$DIR"; skip "slurmctld does not start: $(tail -3 "$DIR/log/slurmctld.err" "$DIR/log/slurmctld.log" 2>/dev/null)"; }
for _ in $(seq 100); do scontrol ping 2>/dev/null | grep -q UP && break; sleep 0.1; done
slurmd -f "$DIR/slurm.conf" 2>"$DIR/log/slurmd.err" || { bash "$HERE/slurm_down.sh" "$DIR"; skip "slurmd does not start: $(tail -3 "$DIR/log/slurmd.err" "$DIR/log/slurmd.log" 2>/dev/null)"; }
for _ in $(seq 150); do
  sinfo -h -N -o '%T' 2>/dev/null | grep -Eqx 'idle|mixed|allocated' && {
    echo "export SLURM_CONF=$DIR/slurm.conf" > "$DIR/env"
    echo "slurm_up: node $NODE idle (slurmctld $(cat "$DIR/slurmctld.pid"), slurmd $(cat "$DIR/slurmd.pid"), ports $PORT-$((PORT + 1)))"
    exit 0
  }
  sleep 0.1
done
reason=$(tail -5 "$DIR/log/slurmctld.log" "$DIR/log/slurmd.log" 2>/dev/null)
bash "$HERE/slurm_down.sh" "$DIR"
skip "the node did not become idle: $reason"
