#!/usr/bin/env bash
# ctest install_test: mdfs used as an installed library, from outside.
#
#   install_test.sh BUILD_DIR SOURCE_DIR
#
# 1. `cmake --install BUILD_DIR --prefix P` into a fresh temporary P (the
#    build directory ctest runs in: no second build of mdfs);
# 2. nothing installed as text (headers, CMake files, mdfs.pc) names the
#    source or the build tree;
# 3. a C++ program (consumer.cc) configured and built with find_package(mdfs)
#    and CMAKE_PREFIX_PATH=P only, then run: it makes its own image;
# 4. a C program (consumer.c) compiled with `cc $(pkg-config --cflags --libs
#    mdfs)`, PKG_CONFIG_LIBDIR=P's pkgconfig only, then run: it makes its
#    image with mdfs_mkfs; the installed P/bin/mdfs fscks that image.
# Both programs are copied out of the source tree first, and the C++
# build's flags and link lines are checked not to name the mdfs trees.
# Exits 0 when all of it worked; prints each step with the elapsed time.
set -euo pipefail
if [ $# -ne 2 ]; then
  echo "usage: $0 BUILD_DIR SOURCE_DIR" >&2
  exit 2
fi
build=$(cd "$1" && pwd)
source=$(cd "$2" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
start_ns=$(date +%s%N)
step() {
  local ms=$((($(date +%s%N) - start_ns) / 1000000))
  printf 'install_test [%3d.%01d s] %s\n' $((ms / 1000)) $((ms % 1000 / 100)) "$*"
}
fail() { echo "install_test: FAILED: $*" >&2; exit 1; }

[ -f "$build/libmdfs.a" ] && [ -x "$build/mdfs" ] ||
  fail "$build has no libmdfs.a or mdfs: build everything first (cmake --build $build)"

work=$(mktemp -d /tmp/mdfs-install-test.XXXXXX)
trap 'rm -rf "$work"' EXIT
prefix=$work/prefix

step "cmake --install $build --prefix $prefix"
cmake --install "$build" --prefix "$prefix" > "$work/install.log" ||
  { cat "$work/install.log" >&2; fail "cmake --install"; }
for f in include/mdfs/mdfs.h include/mdfs/session.h bin/mdfs; do
  [ -e "$prefix/$f" ] || fail "$prefix/$f was not installed"
done
pc=$(find "$prefix" -name mdfs.pc)
config=$(find "$prefix" -name mdfsConfig.cmake)
[ -n "$pc" ] && [ -n "$config" ] && [ -n "$(find "$prefix" -name libmdfs.a)" ] ||
  fail "libmdfs.a, mdfs.pc or mdfsConfig.cmake missing under $prefix"

step "no installed text file names $source or $build"
if grep -rl -e "$source" -e "$build" "$prefix" --include='*.h' --include='*.cmake' \
    --include='*.pc'; then
  fail "the files above point back into the mdfs trees"
fi

step "C++: find_package(mdfs) from $work/cxx"
mkdir "$work/cxx"
cp "$here/CMakeLists.txt" "$here/consumer.cc" "$work/cxx/"
cmake -S "$work/cxx" -B "$work/cxx/build" -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF \
  -DCMAKE_FIND_USE_SYSTEM_PACKAGE_REGISTRY=OFF > "$work/cxx-configure.log" ||
  { cat "$work/cxx-configure.log" >&2; fail "configuring the C++ consumer"; }
cmake --build "$work/cxx/build" > "$work/cxx-build.log" 2>&1 ||
  { cat "$work/cxx-build.log" >&2; fail "building the C++ consumer"; }
if grep -rl -e "$source" -e "$build" "$work/cxx/build" --include=flags.make \
    --include=link.txt; then
  fail "the C++ consumer was compiled or linked with paths into the mdfs trees"
fi
step "C++: run"
"$work/cxx/build/consumer" "$work/cxx.img"

step "C: cc \$(pkg-config --cflags --libs mdfs) with PKG_CONFIG_LIBDIR=$(dirname "$pc")"
flags=$(PKG_CONFIG_LIBDIR=$(dirname "$pc") pkg-config --cflags --libs mdfs) ||
  fail "pkg-config mdfs"
case "$flags" in *"$source"* | *"$build"*) fail "pkg-config gave paths into the mdfs trees: $flags" ;; esac
mkdir "$work/c"
cp "$here/consumer.c" "$work/c/"
# shellcheck disable=SC2086  # $flags is a list of words
"${CC:-cc}" -std=c11 -Wall -Wextra -Werror -o "$work/c/consumer" "$work/c/consumer.c" $flags ||
  fail "compiling the C consumer with: $flags"
step "C: run"
"$work/c/consumer" "$work/c.img"
step "the installed mdfs fscks the C program's image"
"$prefix/bin/mdfs" fsck "$work/c.img"
step "OK"
