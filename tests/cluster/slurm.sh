#!/usr/bin/env bash
# A real one-node SLURM cluster on this machine, for testing `snakemake --profile profiles/slurm` for real.
#
#   eval "$(tests/cluster/slurm.sh start)"   # install (Debian packages), configure, start; export the site variables
#   tests/cluster/slurm.sh stop    # stop every daemon it started
#
# What it sets up: munge, MariaDB, slurmdbd (accounting, so `sacct` works), slurmctld and slurmd; partitions `cpu`
# (default) and `gpu`; two GPUs of type `testgpu` as generic resources backed by dummy device files (jobs see no
# real GPU and run on the CPU); account `tweetbert` for root. CPUs are the machine's own. Memory is declared as
# 256 GB and is not a consumable resource (CR_Core), so the profile's study-sized memory requests are accepted
# unchanged on a small machine. Needs root and apt (Debian's slurm-wlm, slurmdbd, munge, mariadb-server).
# Exit status 3 means the packages could not be installed (callers report the cluster test as skipped).
set -euo pipefail

STATE=/var/lib/tweetbert-ci-slurm
CONF=/etc/slurm/slurm.conf
MARK="# written by tweetbert tests/cluster/slurm.sh"
CLUSTER=tweetbert-ci
ACCOUNT=tweetbert
NODE=$(hostname -s)

log() { echo "slurm.sh: $*" >&2; }

install_packages() {
    local missing=()
    for bin in slurmctld:slurm-wlm slurmdbd:slurmdbd munged:munge mariadbd:mariadb-server; do
        command -v "${bin%%:*}" >/dev/null || [ -x "/usr/sbin/${bin%%:*}" ] || missing+=("${bin##*:}")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    log "installing ${missing[*]}"
    if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
            "${missing[@]}" >/dev/null; }; then
        log "could not install ${missing[*]} with apt-get"
        exit 3
    fi
}

wait_for() {  # wait_for SECONDS DESCRIPTION COMMAND...
    local seconds=$1 what=$2
    shift 2
    for _ in $(seq "$seconds"); do
        "$@" >/dev/null 2>&1 && return 0
        sleep 1
    done
    log "timed out after ${seconds}s waiting for $what"
    return 1
}

start_munge() {
    mkdir -p /run/munge /var/log/munge /var/lib/munge
    [ -s /etc/munge/munge.key ] || mungekey --create --keyfile /etc/munge/munge.key
    chown -R munge:munge /etc/munge /run/munge /var/log/munge /var/lib/munge
    chmod 0400 /etc/munge/munge.key
    if ! munge -n >/dev/null 2>&1; then  # none running, or one that is shutting down: start afresh
        pkill -x munged 2>/dev/null || true
        wait_for 20 "munged to stop" bash -c "! pgrep -x munged"
        runuser -u munge -- /usr/sbin/munged --force
    fi
    wait_for 20 munge munge -n
}

start_mariadb() {
    mkdir -p /run/mysqld && chown mysql:mysql /run/mysqld
    [ -d /var/lib/mysql/mysql ] || mariadb-install-db --user=mysql --datadir=/var/lib/mysql >/dev/null
    if ! pgrep -x mariadbd >/dev/null; then
        setsid /usr/sbin/mariadbd --user=mysql --datadir=/var/lib/mysql --socket=/run/mysqld/mysqld.sock \
            --pid-file=/run/mysqld/mysqld.pid --bind-address=127.0.0.1 >"$STATE/mariadb.log" 2>&1 < /dev/null &
    fi
    wait_for 60 MariaDB mariadb --protocol=socket -e "select 1"
    mariadb --protocol=socket -e "CREATE DATABASE IF NOT EXISTS slurm_acct_db;
        CREATE USER IF NOT EXISTS 'slurm'@'localhost' IDENTIFIED BY 'slurm';
        GRANT ALL ON slurm_acct_db.* TO 'slurm'@'localhost'; FLUSH PRIVILEGES;"
}

write_configs() {
    if [ -f "$CONF" ] && ! grep -qF "$MARK" "$CONF"; then
        log "$CONF exists and was not written by this script: refusing to replace a real cluster's configuration"
        exit 1
    fi
    mkdir -p /etc/slurm "$STATE/ctld" "$STATE/d" /dev/tweetbert-ci
    for i in 0 1; do
        [ -e "/dev/tweetbert-ci/gpu$i" ] || mknod "/dev/tweetbert-ci/gpu$i" c 1 3 2>/dev/null \
            || touch "/dev/tweetbert-ci/gpu$i"
    done
    cat >"$CONF" <<EOF
$MARK
ClusterName=$CLUSTER
SlurmctldHost=$NODE
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=$STATE/ctld
SlurmdSpoolDir=$STATE/d
SlurmctldPidFile=$STATE/slurmctld.pid
SlurmdPidFile=$STATE/slurmd.pid
SlurmctldLogFile=$STATE/slurmctld.log
SlurmdLogFile=$STATE/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SlurmdParameters=config_overrides
ReturnToService=2
MinJobAge=600
KillWait=30
GresTypes=gpu
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=localhost
AccountingStorageTRES=gres/gpu,gres/gpu:testgpu
JobAcctGatherType=jobacct_gather/linux
JobCompType=jobcomp/none
AccountingStoreFlags=job_comment
DefMemPerCPU=1000
NodeName=$NODE CPUs=$(nproc) RealMemory=262144 Gres=gpu:testgpu:2 State=UNKNOWN
PartitionName=cpu Nodes=$NODE Default=YES MaxTime=1-00:00:00 State=UP
PartitionName=gpu Nodes=$NODE MaxTime=1-00:00:00 State=UP
EOF
    cat >/etc/slurm/gres.conf <<EOF
$MARK
NodeName=$NODE Name=gpu Type=testgpu File=/dev/tweetbert-ci/gpu[0-1]
EOF
    cat >/etc/slurm/slurmdbd.conf <<EOF
$MARK
AuthType=auth/munge
DbdHost=localhost
SlurmUser=root
PidFile=$STATE/slurmdbd.pid
LogFile=$STATE/slurmdbd.log
StorageType=accounting_storage/mysql
StorageHost=localhost
StorageUser=slurm
StoragePass=slurm
StorageLoc=slurm_acct_db
EOF
    chmod 0600 /etc/slurm/slurmdbd.conf
}

start_slurm() {
    stop_slurm  # daemons read their configuration at start: restart them on the one just written
    /usr/sbin/slurmdbd
    wait_for 60 slurmdbd sacctmgr -n list cluster
    sacctmgr -i add cluster "$CLUSTER" >/dev/null 2>&1 || true
    sacctmgr -i add account "$ACCOUNT" cluster="$CLUSTER" description=tweetbert-ci organization=ci >/dev/null 2>&1 || true
    sacctmgr -i add user root account="$ACCOUNT" cluster="$CLUSTER" >/dev/null 2>&1 || true
    /usr/sbin/slurmctld
    wait_for 60 slurmctld scontrol ping
    /usr/sbin/slurmd
    wait_for 60 "node $NODE to be idle" bash -c "sinfo -h -n $NODE -o %t | grep -Eq '^(idle|mix|alloc)'"
    # Accounting must answer before anyone relies on sacct.
    wait_for 60 sacct sacct -n -X -S now-1minute
}

start() {
    [ "$(id -u)" = 0 ] || { log "needs root"; exit 1; }
    install_packages
    mkdir -p "$STATE"
    start_munge
    start_mariadb
    write_configs
    start_slurm
    log "cluster $CLUSTER up: $(sinfo -h -o '%P %D %c CPUs %G' | tr '\n' ';')"
    echo "export TWEETBERT_ACCOUNT=$ACCOUNT"
    echo "export TWEETBERT_PARTITION=cpu"
    echo "export TWEETBERT_GPU_PARTITION=gpu"
    echo "export TWEETBERT_GPU_MODEL=testgpu"
}

stop_slurm() {
    for daemon in slurmd slurmctld slurmdbd; do
        pkill -x "$daemon" 2>/dev/null || true
        wait_for 30 "$daemon to stop" bash -c "! pgrep -x $daemon"
    done
}

stop() {
    stop_slurm
    [ -f /run/mysqld/mysqld.pid ] && kill "$(cat /run/mysqld/mysqld.pid)" 2>/dev/null || true
    pkill -x munged 2>/dev/null || true
    log "stopped"
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
