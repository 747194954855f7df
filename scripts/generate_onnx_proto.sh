#!/usr/bin/env bash
# Regenerates Sources/SPDYONNX/Generated/onnx.pb.swift from the vendored ONNX schema.
#
# Not part of the build: the generated file is committed, and the package never uses the
# SwiftProtobuf build plugin. Run this only when the schema or the swift-protobuf version
# changes (see docs/onnx-proto.md).
#
# Inputs
#   scripts/proto/onnx.proto   ONNX schema, byte-identical copy of onnx/onnx.proto from the
#                              `onnx` PyPI wheel (version in ONNX_VERSION below). It is proto2,
#                              the canonical file ONNX and ONNX Runtime compile against.
#   protoc                     Debian `protobuf-compiler` (3.21 tested).
#   protoc-gen-swift           Must match the SwiftProtobuf version in Package.swift
#                              (SWIFT_PROTOBUF_VERSION below). Taken from $PROTOC_GEN_SWIFT if set,
#                              else built once (release, several minutes) from
#                              $SWIFT_PROTOBUF_GIT at that tag into $SWIFT_PROTOBUF_DIR:
#                                git clone "$SWIFT_PROTOBUF_GIT" "$SWIFT_PROTOBUF_DIR"
#                                git -C "$SWIFT_PROTOBUF_DIR" checkout 1.39.0
#                                (cd "$SWIFT_PROTOBUF_DIR" && swift build -c release --product protoc-gen-swift)
#                              The checkout lives outside this package; it is a one-off tool.
#
# Usage
#   scripts/generate_onnx_proto.sh                  regenerate from scripts/proto/onnx.proto
#   scripts/generate_onnx_proto.sh --update-schema  first copy onnx.proto from .venv's onnx
#                                                   (then update ONNX_VERSION and the docs)
#
# The exact generator command it runs:
#   protoc --plugin=protoc-gen-swift="$PROTOC_GEN_SWIFT" \
#          --swift_opt=Visibility=Internal \
#          --swift_out=Sources/SPDYONNX/Generated \
#          -I scripts/proto onnx.proto
# Visibility=Internal keeps every protobuf type inside the SPDYONNX module.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

ONNX_VERSION="1.23.2"            # onnx wheel the vendored schema was copied from
SWIFT_PROTOBUF_VERSION="1.39.0"  # must equal the swift-protobuf version Package.swift resolves
SWIFT_PROTOBUF_GIT="${SWIFT_PROTOBUF_GIT:-https://github.com/apple/swift-protobuf.git}"
SWIFT_PROTOBUF_DIR="${SWIFT_PROTOBUF_DIR:-${TMPDIR:-/tmp}/swift-protobuf-$SWIFT_PROTOBUF_VERSION}"

schema_dir="scripts/proto"
schema="onnx.proto"
out_dir="Sources/SPDYONNX/Generated"

if [ "${1:-}" = "--update-schema" ]; then
    src="$(.venv/bin/python -c 'import onnx, os; print(os.path.join(os.path.dirname(onnx.__file__), "onnx.proto"))')"
    version="$(.venv/bin/python -c 'import onnx; print(onnx.__version__)')"
    cp "$src" "$schema_dir/$schema"
    echo "generate_onnx_proto: copied $schema from onnx $version; set ONNX_VERSION and docs/onnx-proto.md to it" >&2
fi

command -v protoc >/dev/null || { echo "generate_onnx_proto: protoc missing (apt-get install protobuf-compiler)" >&2; exit 1; }

if [ -z "${PROTOC_GEN_SWIFT:-}" ]; then
    if [ ! -d "$SWIFT_PROTOBUF_DIR/.git" ]; then
        git clone -q "$SWIFT_PROTOBUF_GIT" "$SWIFT_PROTOBUF_DIR"
    fi
    git -C "$SWIFT_PROTOBUF_DIR" checkout -q "$SWIFT_PROTOBUF_VERSION"
    echo "generate_onnx_proto: building protoc-gen-swift $SWIFT_PROTOBUF_VERSION in $SWIFT_PROTOBUF_DIR" >&2
    (cd "$SWIFT_PROTOBUF_DIR" && swift build -c release --product protoc-gen-swift >&2)
    PROTOC_GEN_SWIFT="$(cd "$SWIFT_PROTOBUF_DIR" && swift build -c release --show-bin-path)/protoc-gen-swift"
fi

plugin_version="$("$PROTOC_GEN_SWIFT" --version)"
case "$plugin_version" in
    *" $SWIFT_PROTOBUF_VERSION") ;;
    *) echo "generate_onnx_proto: $PROTOC_GEN_SWIFT is '$plugin_version', need $SWIFT_PROTOBUF_VERSION" >&2; exit 1 ;;
esac

mkdir -p "$out_dir"
protoc --plugin=protoc-gen-swift="$PROTOC_GEN_SWIFT" \
       --swift_opt=Visibility=Internal \
       --swift_out="$out_dir" \
       -I "$schema_dir" "$schema"
echo "generate_onnx_proto: wrote $out_dir/onnx.pb.swift ($plugin_version, $(protoc --version), onnx $ONNX_VERSION schema)" >&2
