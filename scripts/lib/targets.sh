# Command-line handling shared by the idempotent fixture builders (prepare_fixtures.sh,
# prune_fixtures.sh). Source it, then call
#   parse_targets TOOL HELP_LINES "$@"
# with the caller's associative array `recipe` (target → recipe) and array `order` (all targets)
# defined. Sets `force` (0/1) and `selected` (the targets named, or all of `order`); handles
# --force, --list, -h/--help (prints lines HELP_LINES, e.g. '2,10p', of the calling script) and
# rejects unknown options and targets.
parse_targets() {
    local tool="$1" help="$2" arg
    shift 2
    force=0
    selected=()
    for arg in "$@"; do
        case "$arg" in
            --force) force=1 ;;
            --list) printf '%s\n' "${order[@]}"; exit 0 ;;
            -h|--help) sed -n "$help" "$0"; exit 0 ;;
            -*) echo "$tool: unknown option $arg" >&2; exit 2 ;;
            *) [ -n "${recipe[$arg]+x}" ] || { echo "$tool: unknown target $arg (see --list)" >&2; exit 2; }
               selected+=("$arg") ;;
        esac
    done
    [ ${#selected[@]} -gt 0 ] || selected=("${order[@]}")
}
