#!/usr/bin/env bash
# Distributed training with torchrun.
# Usage: tools/dist_train.sh CONFIG GPUS [train.py args]
# Env: NNODES (1), NODE_RANK (0), PORT (29500), MASTER_ADDR (127.0.0.1),
#      PYTHON (python), SHUTDOWN_TIMEOUT (30: seconds torchrun gives the
#      workers after forwarding a signal, before SIGKILL).
# Exit code: torchrun's, except 75 when the run was preempted (SIGTERM /
# SIGUSR1 handled by PreemptionHook: a checkpoint was written; requeue with
# --resume). Signal the whole process group (kill -TERM -- -PGID; SLURM
# signals every process of the step): torchrun forwards SIGTERM / SIGUSR1
# to the workers (they checkpoint and exit) and SIGKILLs them after
# SHUTDOWN_TIMEOUT seconds; this script waits and reports.
CONFIG=$1
GPUS=$2
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
PORT=${PORT:-29500}
MASTER_ADDR=${MASTER_ADDR:-"127.0.0.1"}
EXIT_PREEMPTED=75

# rank 0 writes this file when it stops for a preemption
MARKER=$(mktemp "${TMPDIR:-/tmp}/cmim_preempted.XXXXXX")
rm -f "$MARKER"
trap 'rm -f "$MARKER"' EXIT
export CMIM_PREEMPTION_MARKER=$MARKER

PYTHONPATH="$(dirname "$0")/..":$PYTHONPATH \
${PYTHON:-python} -m torch.distributed.run \
    --nnodes=$NNODES \
    --node_rank=$NODE_RANK \
    --master_addr=$MASTER_ADDR \
    --nproc_per_node=$GPUS \
    --master_port=$PORT \
    --signals-to-handle=SIGTERM,SIGINT,SIGHUP,SIGQUIT,SIGUSR1 \
    --shutdown-timeout=${SHUTDOWN_TIMEOUT:-30} \
    "$(dirname "$0")/train.py" \
    "$CONFIG" \
    --launcher pytorch "${@:3}" &
PID=$!
# Survive the job's signals to report the exit code: torchrun, in this
# process group, gets them itself and forwards them to the workers.
trap ':' TERM USR1 INT HUP
while :; do
    wait $PID
    STATUS=$?
    kill -0 $PID 2>/dev/null || break  # wait was cut short by a signal
done
if [ -s "$MARKER" ]; then
    echo "dist_train.sh: preempted, checkpoint written: $(cat "$MARKER")" >&2
    exit $EXIT_PREEMPTED
fi
exit $STATUS
