# Everything the role needs to know about a host, read in one go (tasks/inspect.yml): one remote
# call instead of one per question. Read-only. One record per line, its kind first; parsed in
# vars/main.yml. Arguments:
#   SSHD MAIN_CONFIG DROPIN_DIR DROPIN KEYFILES ADMIN_USER...
# KEYFILES is the AuthorizedKeysFile of sshd_extra_options ('' for none): once the drop-in is in
# place that is where sshd looks for keys, so the guard counts keys there.
set -eu
set -f  # AuthorizedKeysFile values are split on spaces below, never globbed
sshd=$1 main=$2 dropin_dir=$3 dropin=$4 keyfiles=$5
shift 5

# Without the server there is nothing else to read: the role installs it and asks again.
if [ ! -x "$sshd" ] || ! command -v ssh >/dev/null || ! command -v ssh-keygen >/dev/null; then
  echo "server missing"
  exit 0
fi
echo "server present"

# ssh and sshd come from the same source package and version: ssh -Q lists what sshd supports.
echo "version $(ssh -V 2>&1)"
for q in kex cipher mac; do
  list=$(ssh -Q "$q")
  printf '%s\n' "$list" | sed "s/^/$q /"
done

# sed replacement text: escape what sed would read as special.
sed_escape() { printf '%s\n' "$1" | sed 's/[\\&|]/\\&/g'; }

# The lockout guard's facts for each admin user: the user exists (and its groups), the files sshd
# reads the user's keys from (AuthorizedKeysFile as sshd -T resolves it for that user, %h, %u and
# %% expanded, relative to the home directory) and the valid keys in them (ssh-keygen -l).
for user; do
  entry=$(getent passwd "$user") || continue  # a missing user has no record: the guard says so
  home=$(printf '%s\n' "$entry" | cut -d: -f6)
  printf 'user %s %s\n' "$user" "$(id -Gn "$user")"
  if [ -n "$keyfiles" ]; then
    config=$("$sshd" -T -C "user=$user,host=localhost,addr=127.0.0.1" -o "AuthorizedKeysFile=$keyfiles")
  else
    config=$("$sshd" -T -C "user=$user,host=localhost,addr=127.0.0.1")
  fi
  home_sed=$(sed_escape "$home") user_sed=$(sed_escape "$user")
  for file in $(printf '%s\n' "$config" | sed -n 's/^authorizedkeysfile //p'); do
    [ "$file" != none ] || continue
    file=$(printf '%s\n' "$file" | sed -e "s|%h|$home_sed|g" -e "s|%u|$user_sed|g" -e 's|%%|%|g')
    case $file in /*) ;; *) file=$home/$file ;; esac
    printf 'keyfile %s %s\n' "$user" "$file"
    if [ -f "$file" ]; then
      ssh-keygen -lf "$file" 2>/dev/null | sed "s|^|key $user_sed |"
    fi
  done
done

# The files the role writes, to compare with what it would write (content base64, one line).
if [ -d "$dropin_dir" ]; then echo "dropin_dir $(stat -c %a "$dropin_dir")"; fi
if [ -e "$dropin" ]; then
  owner_mode=$(stat -c %U:%G:%a "$dropin") content=$(base64 -w0 "$dropin")
  echo "dropin $owner_mode $content"
fi
content=$(base64 -w0 "$main")
echo "main $content"
