# bash completion for usbip-tool and usbipcored                 -*- shell-script -*-
# SPDX-License-Identifier: GPL-2.0-or-later
# Commands and options come from the program's own --help (so they never go stale); bus IDs
# from `usbip-tool list -l -p` (bind, unbind) or `list -r HOST` (attach), ports from
# `usbip-tool port`.

# _usbip_tool_options TOOL [VERB]: "FLAG" or "FLAG=" (takes a value) per option line of --help
_usbip_tool_options()
{
    LC_ALL=C "$@" --help 2>/dev/null | awk '/^ +-/ {
        sub(/^ +/, ""); sub(/  .*/, "")
        value = index($0, "=") > 0
        n = split($0, f, /[ ,=[]+/)
        for (i = 1; i <= n; i++) if (f[i] ~ /^-/) print f[i] (value ? "=" : "")
    }'
}

# _usbip_tool_commands TOOL: first word of each line under "Commands:"
_usbip_tool_commands()
{
    LC_ALL=C "$1" --help 2>/dev/null | awk '/^Commands:/ { on = 1; next }
        on && /^$/ { exit }
        on && /^  [a-z]/ && !seen[$1]++ { print $1 }'
}

_usbip_tool_busids()
{
    LC_ALL=C "$@" list -l -p 2>/dev/null | sed -n 's/^busid=\([^#]*\)#.*/\1/p'
}

# _usbip_tool_remote_busids TOOL [GLOBAL-OPTIONS] --json list -r HOST: the bus IDs HOST exports
_usbip_tool_remote_busids()
{
    LC_ALL=C "$@" 2>/dev/null |
        sed -n 's/.*"busid" *: *"\([^"]*\)".*/\1/p'
}

_usbip_tool_ports()
{
    LC_ALL=C "$@" port 2>/dev/null | sed -n 's/^Port 0*\([0-9][0-9]*\):.*/\1/p'
}

_usbip_tool()
{
    local tool=${COMP_WORDS[0]} cur=${COMP_WORDS[COMP_CWORD]} prev=
    local i w verb= verb_at=0 remote= opts globals=()
    ((COMP_CWORD > 0)) && prev=${COMP_WORDS[COMP_CWORD - 1]}
    COMPREPLY=()

    # the command is the first word that is neither a global option nor its value
    local global=$(_usbip_tool_options "$tool")
    for ((i = 1; i < COMP_CWORD; i++)); do
        w=${COMP_WORDS[i]}
        if [[ $w == -* ]]; then
            globals+=("$w")
            if [[ $w != *=* && $'\n'$global$'\n' == *$'\n'$w=$'\n'* ]]; then
                # its value; "--opt=value" reaches us as three words (= is a word break)
                [[ ${COMP_WORDS[i + 1]} == = ]] && ((i++))
                ((i + 1 < COMP_CWORD)) && globals+=("${COMP_WORDS[++i]}")
            fi
            continue
        fi
        verb=$w verb_at=$i
        break
    done

    if [[ -z $verb ]]; then
        case $prev in
            -c | --config) COMPREPLY=($(compgen -f -- "$cur")); return ;;
        esac
        if [[ $'\n'$global$'\n' == *$'\n'$prev=$'\n'* ]]; then
            return
        fi
        if [[ $cur == -* ]]; then
            COMPREPLY=($(compgen -W "${global//=/}" -- "$cur"))
        else
            COMPREPLY=($(compgen -W "$(_usbip_tool_commands "$tool")" -- "$cur"))
        fi
        return
    fi

    if [[ $verb == trace ]]; then
        if ((COMP_CWORD == verb_at + 1)); then
            COMPREPLY=($(compgen -W decode -- "$cur"))
            return
        fi
    fi
    if [[ $verb == help ]]; then
        ((COMP_CWORD == verb_at + 1)) && COMPREPLY=($(compgen -W "$(_usbip_tool_commands "$tool")" -- "$cur"))
        return
    fi

    # -r HOST; "host:port" reaches us as three words (: is a word break)
    for ((i = verb_at + 1; i < COMP_CWORD - 1; i++)); do
        case ${COMP_WORDS[i]} in
            -r | --remote)
                remote=${COMP_WORDS[++i]}
                while ((i + 1 < COMP_CWORD - 1)) && [[ ${COMP_WORDS[i + 1]} == : || ${COMP_WORDS[i]} == : ]]; do
                    remote+=${COMP_WORDS[++i]}
                done
                ;;
        esac
    done
    case $verb:$prev in
        bind:-b | bind:--busid | unbind:-b | unbind:--busid)
            COMPREPLY=($(compgen -W "$(_usbip_tool_busids "$tool" "${globals[@]}")" -- "$cur")); return ;;
        attach:-b | attach:--busid)
            [[ -n $remote ]] && COMPREPLY=($(compgen -W "$(_usbip_tool_remote_busids "$tool" "${globals[@]}" --timeout 3000 --json list -r "$remote")" -- "$cur"))
            return ;;
        detach:-p | detach:--port)
            COMPREPLY=($(compgen -W "$(_usbip_tool_ports "$tool" "${globals[@]}")" -- "$cur")); return ;;
        *:-r | *:--remote)
            COMPREPLY=($(compgen -A hostname -- "$cur")); return ;;
    esac
    opts=$(_usbip_tool_options "$tool" "$verb")
    if [[ $'\n'$opts$'\n' == *$'\n'$prev=$'\n'* ]]; then
        return
    fi
    if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W "${opts//=/}" -- "$cur"))
    elif [[ $verb == trace ]]; then
        COMPREPLY=($(compgen -f -- "$cur"))
    fi
} &&
    complete -F _usbip_tool usbip-tool

_usbipcored()
{
    local cur=${COMP_WORDS[COMP_CWORD]} prev=
    ((COMP_CWORD > 0)) && prev=${COMP_WORDS[COMP_CWORD - 1]}
    COMPREPLY=()
    case $prev in
        -c | --config | -P | --pid) COMPREPLY=($(compgen -f -- "$cur")); return ;;
        --log-format) COMPREPLY=($(compgen -W "text json journal" -- "$cur")); return ;;
    esac
    [[ $cur == -* ]] && COMPREPLY=($(compgen -W "$(_usbip_tool_options "${COMP_WORDS[0]}" | tr -d =)" -- "$cur"))
} &&
    complete -F _usbipcored usbipcored

# ex: filetype=sh
