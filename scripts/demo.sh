#!/usr/bin/env bash
# The main job on the embedded default: builds mdfs, creates an image file,
# formats it, copies files in and out, shows the extent maps, checks it —
# then runs `mdfs demo` on the same image: a file range mapped onto the
# image's own blocks (MAP_DIRECT), records stored and persisted through the
# mapping, a truncate from another thread that recalls the mapping's layout
# lease (the callback stops the writer, the range then raises SIGBUS), and
# the persisted records read back and fsck'd. See doc/cli.md ("demo").
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
image=${MDFS_DEMO_IMAGE:-mdfs-demo.img}
mdfs=./build/mdfs
run() { echo "\$ mdfs $*"; "$mdfs" "$@"; echo; }

echo "=== 1. The file system: mkfs, put, ls, stat, fallocate, truncate, get, df, fsck"
echo
rm -f "$image"
run mkfs "$image" --size 256M
run mkdir "$image" /docs
run put "$image" README.md /docs/README.md
head -c 6M /dev/urandom > build/demo-random.bin
run put "$image" build/demo-random.bin /big.bin
run ls "$image" /
run stat "$image" /big.bin
run fallocate "$image" /big.bin --punch-hole 1M 1M
run truncate "$image" /big.bin 3M
run stat "$image" /big.bin
run get "$image" /docs/README.md build/demo-README.copy
cmp README.md build/demo-README.copy && echo "get: copy is identical to README.md"
echo
run df "$image"
run fsck "$image"

echo "=== 2. MAP_DIRECT: map, persist, recall, truncate (in one process: mdfs demo)"
echo
run demo "$image"
run ls "$image" /
echo "demo: the image is $image; try: $mdfs --help, $mdfs demo --help"
