#!/usr/bin/env zsh
# zsh_complete.zsh DIR LINE: prints what zsh's completion offers at the end
# of LINE, one candidate a line, with the completion functions in DIR (as
# `osaurus-tray completions zsh > DIR/_osaurus-tray` writes them). An
# interactive zsh in a pseudo-terminal completes LINE as Tab would; compadd
# is wrapped to print the candidates instead of inserting them.
zmodload zsh/zpty || { print -u2 'zsh/zpty is missing'; exit 1 }
dir=$1 line=$2
zpty z zsh -f -i
init=$(mktemp)
cat >$init <<INIT
PROMPT=
fpath=($dir \$fpath)
autoload -U compinit
compinit -u -D
bindkey '^I' complete-word
null-line() { print -r -- \$'\\0' }
compprefuncs=(null-line)
comppostfuncs=(null-line exit)
zstyle ':completion:*' list-grouped false
zstyle ':completion:*' insert-tab false
compadd() {
  if [[ \${@[1,(i)(-|--)]} == *-(O|A|D)\\ * ]]; then
    builtin compadd "\$@"
    return
  fi
  local -a __hits
  builtin compadd -A __hits "\$@"
  local h
  for h in \$__hits; do print -r -- "\$h"; done
}
print ok
INIT
zpty -w z "source $init"
repeat 10; do
  zpty -r z out
  [[ $out == ok* ]] && break
done
[[ $out == ok* ]] || { print -u2 'zsh did not start'; exit 2 }
zpty -w z "$line"$'\t'
integer seen=0
while zpty -r z out; do
  if [[ $out == *$'\0'* ]]; then
    (( seen++ )) && break || continue
  fi
  (( seen )) && print -r -- ${out%$'\r'}
done
zpty -d z
rm -f $init
