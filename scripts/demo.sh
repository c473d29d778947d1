#!/usr/bin/env bash
# The main job on the embedded default: builds mdfs, creates an image file,
# formats it, copies files in and out, shows the extent maps, checks it.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
image=${MDFS_DEMO_IMAGE:-mdfs-demo.img}
mdfs=./build/mdfs
run() { echo "\$ mdfs $*"; "$mdfs" "$@"; echo; }

rm -f "$image"
run mkfs "$image" --size 256M
run mkdir "$image" /docs
run put "$image" README.md /docs/README.md
head -c 6M /dev/urandom > build/demo-random.bin
run put "$image" build/demo-random.bin /big.bin
run ls "$image" /
run ls "$image" /docs
run stat "$image" /big.bin
run fallocate "$image" /big.bin --punch-hole 1M 1M
run truncate "$image" /big.bin 3M
run stat "$image" /big.bin
run get "$image" /docs/README.md build/demo-README.copy
cmp README.md build/demo-README.copy && echo "get: copy is identical to README.md"
echo
run df "$image"
run fsck "$image"
echo "demo: the image is $image; try: $mdfs --help"
