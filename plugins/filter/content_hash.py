"""The one rebuild decision of the collection: a short hash of what a thing is made from.

Every image the roles build carries the hash of its rendered build context (a label, and for the Jupyter
image its tag too), and every key pair the roles generate has a stamp holding the hash of its recipe (the
dict the crypto tasks read their parameters from) and the checksums and modes of the files made: the thing
is made again exactly when today's hash differs from the one it carries. Nothing is bumped by hand; a change
of a template, a variable or a crypto parameter is a change of the hash.

The roles call these filters with their FQCN (condaswarm.cluster.<name>); they are tested in
tests/unit/plugins/filter/test_content_hash.py.
"""

import hashlib
import json

from ansible.errors import AnsibleFilterError

# 64 bits: unique among the versions of one image or one key pair, short enough for a tag.
LENGTH = 16
# Each entry of a recipe is one pair of files: <name>.key and <name>.crt.
PAIR_SUFFIXES = (".key", ".crt")


def content_hash(data):
    """Hex sha256 (first 16 digits) of `data` as JSON with sorted keys, so that the order of a dict does not
    change it. Equal to Ansible's `to_json(sort_keys=true) | hash('sha256')`, which the roles used before, so
    existing tags and labels stay valid."""
    try:
        text = json.dumps(data, sort_keys=True)
    except (TypeError, ValueError) as exc:
        raise AnsibleFilterError(f"content_hash: the data must be JSON (text, numbers, lists, dicts): {exc}") from exc
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:LENGTH]


def _recipe(recipe):
    if not isinstance(recipe, dict) or not recipe or not all(isinstance(v, dict) for v in recipe.values()):
        raise AnsibleFilterError("key pair recipe: a dict of pair name (ca, tls...) -> the parameters of that pair")
    return recipe


def key_pair_stamp(files, recipe):
    """The stamp of the key pairs `recipe` describes ({pair name: parameters}; files <name>.key and <name>.crt),
    given host_state's file results by file name: JSON text with each pair's content_hash and each file's
    checksum and mode ('' for a file that is not there). The roles write it beside the pairs once they are made;
    while the stamp on the host equals the one computed from today's recipe and files, nothing is made."""
    recipe = _recipe(recipe)
    seen = {}
    for name in recipe:
        for suffix in PAIR_SUFFIXES:
            state = (files or {}).get(name + suffix) or {}
            seen[name + suffix] = f"{state.get('checksum', '')} {state.get('mode', '')}" if state.get("exists") else ""
    stamp = {"files": seen, "recipe": {name: content_hash(parameters) for name, parameters in recipe.items()}}
    return json.dumps(stamp, sort_keys=True) + "\n"


def key_pair_recipes_changed(stamp, recipe):
    """Names of the pairs whose recipe differs from the one `stamp` (the text of the stamp on the host) was
    written for: their certificates are made again even where the old one would still pass the crypto modules'
    own checks (which ignore the validity period, for one). Empty without a readable stamp: the modules then
    keep what is valid and remake the rest."""
    recipe = _recipe(recipe)
    try:
        stamped = json.loads(stamp or "")["recipe"]
    except (TypeError, ValueError, KeyError):
        return []
    if not isinstance(stamped, dict):
        return []
    return [
        name
        for name, parameters in recipe.items()
        if stamped.get(name, content_hash(parameters)) != content_hash(parameters)
    ]


class FilterModule:
    def filters(self):
        return {
            "content_hash": content_hash,
            "key_pair_stamp": key_pair_stamp,
            "key_pair_recipes_changed": key_pair_recipes_changed,
        }
