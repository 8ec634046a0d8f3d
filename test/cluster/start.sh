#!/usr/bin/env bash
# Start a private single-node Slurm cluster (munged, slurmctld, slurmd) for the integration test.
#   eval "$(bash test/cluster/start.sh)"   → sets SLURM_CONF, and GROKSWEEP_SLURM_STARTED=1 unless it
#                                            reused running daemons
# Everything lives in $GROKSWEEP_SLURM_DIR (default /tmp/groksweep-slurm): its own munge key and
# socket, slurm.conf, state, logs and the PIDs of the daemons it started, so it never touches a
# system Slurm or munge and stop.sh stops exactly these daemons. Idempotent: when the daemons
# recorded there are alive and the node answers, it reuses them.
# Exit codes: 0 cluster up; 3 cannot run here (reason on stderr, "skip: …"); 1 it should have
# started but did not (daemon logs on stderr).
set -uo pipefail
D=${GROKSWEEP_SLURM_DIR:-/tmp/groksweep-slurm}
CTL_PORT=${GROKSWEEP_SLURM_PORT:-6917}      # not 6817/6818: never collide with a real Slurm on this host
skip() { echo "skip: $*" >&2; exit 3; }
alive() { [[ -s $D/pids/$1 ]] && kill -0 "$(cat "$D/pids/$1")" 2>/dev/null; }

[[ $(id -u) == 0 ]] || skip "needs root (slurmd runs jobs as the submitting user and munged checks ownership)"
installed() { for b in slurmctld slurmd munged sbatch; do command -v $b >/dev/null || return 1; done; }
if ! installed; then
  # Debian packages, as the README says; tolerate failure (no network, no apt): that is a skip
  command -v apt-get >/dev/null || skip "slurmctld/slurmd/munged/sbatch not installed and no apt-get"
  echo "installing slurm-wlm and munge (apt-get)…" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends slurm-wlm munge >/dev/null 2>&1 ||
    skip "apt-get install slurm-wlm munge failed (try apt-get update)"
  installed || skip "slurmctld/slurmd/munged/sbatch still not on PATH ($PATH) after installing slurm-wlm and munge"
fi

mkdir -p "$D"/{pids,state,spool,log,munge} && chmod 700 "$D/munge"
export SLURM_CONF=$D/slurm.conf
if alive munged && alive slurmctld && alive slurmd && [[ $(sinfo -h -o %t 2>/dev/null) =~ ^(idle|mix|alloc) ]]; then
  echo "export SLURM_CONF=$SLURM_CONF GROKSWEEP_SLURM_STARTED=0"
  exit 0
fi
# a half-started previous attempt: stop what it recorded before starting afresh
bash "$(dirname "$0")/stop.sh" >/dev/null 2>&1

NODE=$(hostname -s)
CPUS=$(nproc)
[[ -s $D/munge/munge.key ]] || {
  dd if=/dev/urandom of="$D/munge/munge.key" bs=1024 count=1 status=none && chmod 400 "$D/munge/munge.key"
}
cat > "$SLURM_CONF" <<CONF
# written by test/cluster/start.sh: one node, one partition, no accounting, no cgroups
ClusterName=groksweep-ci
SlurmctldHost=$NODE(127.0.0.1)
SlurmctldPort=$CTL_PORT
SlurmdPort=$((CTL_PORT + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$D/munge/munge.socket
StateSaveLocation=$D/state
SlurmdSpoolDir=$D/spool
SlurmctldPidFile=$D/slurmctld.pid
SlurmdPidFile=$D/slurmd.pid
SlurmctldLogFile=$D/log/slurmctld.log
SlurmdLogFile=$D/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
KillWait=5
MinJobAge=600
NodeName=$NODE NodeAddr=127.0.0.1 CPUs=$CPUS State=UNKNOWN
PartitionName=ci Nodes=$NODE Default=YES MaxTime=INFINITE State=UP
CONF

start() { # name, command…: run in the foreground mode under setsid, record the PID
  local name=$1; shift
  setsid "$@" >"$D/log/$name.out" 2>&1 < /dev/null &
  echo $! > "$D/pids/$name"
}
start munged munged --foreground --force --key-file="$D/munge/munge.key" --socket="$D/munge/munge.socket" \
  --pid-file="$D/munge/munged.pid" --log-file="$D/log/munged.log" --seed-file="$D/munge/munged.seed"
for _ in $(seq 50); do [[ -S $D/munge/munge.socket ]] && break; sleep 0.1; done
start slurmctld slurmctld -D -i
start slurmd slurmd -D
fail() {
  echo "slurm did not start: $*" >&2
  for f in "$D"/log/*; do echo "== $f" >&2; tail -n 20 "$f" >&2; done
  exit 1
}
for _ in $(seq 120); do
  for d in munged slurmctld slurmd; do alive $d || fail "$d exited"; done
  state=$(sinfo -h -o %t 2>/dev/null)
  [[ $state =~ ^(idle|mix|alloc) ]] && { echo "export SLURM_CONF=$SLURM_CONF GROKSWEEP_SLURM_STARTED=1"; exit 0; }
  sleep 1
done
fail "node state '$state' after 120 s"
