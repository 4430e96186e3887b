#!/usr/bin/env bash
# Runs the conformance workers in real V8 (Javet) from a startup snapshot of prelude.js.
# Needs a JDK (JAVA_HOME, 17+) and the Javet jars in the local Maven repository
# (run `./mvnw -q -pl bulwark-sandbox dependency:resolve` once from the repository root).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
prelude_dir="$here/../.."
version="${JAVET_VERSION:-5.0.6}"
repo="${MAVEN_REPO:-$HOME/.m2/repository}/com/caoccao/javet"
cp="$repo/javet/$version/javet-$version.jar:$repo/javet-v8-linux-x86_64/$version/javet-v8-linux-x86_64-$version.jar"
java_bin="${JAVA_HOME:+$JAVA_HOME/bin/}"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
"${java_bin}javac" -cp "$cp" -d "$out" "$here/V8Check.java"
"${java_bin}java" --enable-native-access=ALL-UNNAMED -cp "$cp:$out" V8Check \
  "$prelude_dir/../main/resources/dev/bulwark/sandbox/prelude/prelude.js" \
  "$prelude_dir/../test/resources/prelude-tests" "$here/test-host.js" "$@" 2> >(grep -v 'JavetDefaultLogger\|^WARNING: ' >&2)
