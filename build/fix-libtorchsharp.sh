#!/usr/bin/env bash
# Makes TorchSharp's libLibTorchSharp.so load on systems whose libstdc++ predates GLIBCXX_3.4.32
# (Debian 12 ships 3.4.30). Only one symbol, std::ios_base_library_init(), needs the newer
# version; libstdc++ 13 calls it to force iostream initialisation, which older libstdc++
# does in its own constructor anyway, so an empty definition is a faithful stand-in.
#
# Usage: fix-libtorchsharp.sh DIR   (patches every libLibTorchSharp.so under DIR, idempotently)
set -euo pipefail
dir="${1:?usage: fix-libtorchsharp.sh DIR}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
sym=_ZSt21ios_base_library_initv
stub=libposttrain_iosinit.so

libstdcxx="$(ldconfig -p 2>/dev/null | awk '/libstdc\+\+\.so\.6 .*x86-64/ {print $NF; exit}')"
if [[ -n "$libstdcxx" ]] && grep -qa 'GLIBCXX_3\.4\.32' "$libstdcxx"; then
  exit 0   # the system library is new enough; leave TorchSharp as shipped
fi

mapfile -t libs < <(find "$dir" -name libLibTorchSharp.so -type f 2>/dev/null)
[[ ${#libs[@]} -eq 0 ]] && exit 0

for tool in patchelf cc python3; do
  command -v "$tool" >/dev/null || { echo "fix-libtorchsharp: '$tool' is required (apt-get install patchelf gcc python3); see README" >&2; exit 1; }
done

for lib in "${libs[@]}"; do
  native="$(dirname "$lib")"
  if [[ ! -f "$native/$stub" ]]; then
    printf 'void %s(void) {}\n' "$sym" > "$native/.iosinit.c"
    cc -shared -fPIC -O2 -o "$native/$stub.tmp" "$native/.iosinit.c"
    rm -f "$native/.iosinit.c"
    mv "$native/$stub.tmp" "$native/$stub"
  fi
  if readelf -d "$lib" | grep -q "\[$stub\]"; then
    continue   # already patched
  fi
  # Work on a private copy: the build may hard-link the file to the NuGet cache.
  tmp="$lib.patching"
  cp "$lib" "$tmp"
  python3 "$here/elf_weaken_verneed.py" "$tmp" GLIBCXX_3.4.32
  patchelf --clear-symbol-version "$sym" "$tmp"
  patchelf --add-needed "$stub" "$tmp"
  mv -f "$tmp" "$lib"
done
