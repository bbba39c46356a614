#!/usr/bin/env bash
# Run one command inside the GIMP test root (see build_gimp_root.sh).
#
# The command runs in its own mount, PID and network namespaces (no network;
# X displays started inside cannot clash with the host's): /dev, /proc, /sys, a
# fresh /tmp and /run, and any --bind folders are mounted there only, so every
# mount disappears when the command ends (or is killed), and so does every
# process it started. Nothing is left mounted on the host.
#
# Usage: scripts/gimp_root_run.sh [--root DIR] [--bind HOST_DIR:ROOT_DIR]... [--env NAME=VALUE]... -- COMMAND [ARGS...]
#   --root DIR   the root (default: ${KDSHARP_CACHE:-~/.cache/kdsharp}/gimp-root)
#   --bind A:B   bind-mount host folder A at B inside the root (B is created)
#   --env N=V    set a variable for the command (the environment is otherwise clean)
# The exit status is the command's. To stop it early, send SIGKILL to this
# script's process (unshare ignores SIGTERM while it waits); the namespace's
# processes die with it.
set -euo pipefail

ROOT="${KDSHARP_CACHE:-$HOME/.cache/kdsharp}/gimp-root"
BINDS=()
ENVS=()
while [ $# -gt 0 ]; do
    case "$1" in
        --root) ROOT="$2"; shift 2 ;;
        --bind) BINDS+=("$2"); shift 2 ;;
        --env) ENVS+=("$2"); shift 2 ;;
        --) shift; break ;;
        *) echo "gimp_root_run: unknown option $1 (put the command after --)" >&2; exit 2 ;;
    esac
done
if [ $# -eq 0 ]; then
    echo "gimp_root_run: no command given" >&2
    exit 2
fi
if [ ! -x "$ROOT/usr/bin/env" ]; then
    echo "gimp_root_run: no root at $ROOT (build it with scripts/build_gimp_root.sh)" >&2
    exit 2
fi

# Arguments cross into the inner shell as NUL-free positional parameters:
# root, number of binds, binds..., number of envs, envs..., command...
exec unshare --mount --pid --net --fork --kill-child --propagation private -- bash -c '
set -euo pipefail
R="$1"; shift
n="$1"; shift
binds=("${@:1:$n}"); shift "$n"
m="$1"; shift
envs=("${@:1:$m}"); shift "$m"
mount --rbind /dev "$R/dev"
mount -t proc proc "$R/proc"
mount --rbind /sys "$R/sys"
mount -t tmpfs -o mode=1777 tmpfs "$R/tmp"
mount -t tmpfs tmpfs "$R/run"
for b in "${binds[@]}"; do
    src="${b%%:*}"; dst="${b#*:}"
    mkdir -p "$R$dst"
    mount --bind "$src" "$R$dst"
done
set +e
chroot "$R" /usr/bin/env -i HOME=/root LANG=C.UTF-8 \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    "${envs[@]}" "$@"
' gimp_root_run "$ROOT" "${#BINDS[@]}" "${BINDS[@]}" "${#ENVS[@]}" "${ENVS[@]}" "$@"
