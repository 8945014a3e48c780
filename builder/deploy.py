"""Publishing a built site on a branch of the project's git repository (`teachkit deploy`), the way
`mkdocs gh-deploy` and ghp-import do: the site, with an empty `.nojekyll` so that GitHub Pages serves
it as it is, becomes one new commit on top of the branch, which is then pushed.

Only git plumbing is used (a temporary index, `add` with the site as work tree, `write-tree`,
`commit-tree`, `update-ref`), so the author's checked-out branch, index and files are never touched.

"Dirty target branch" means, here: the branch is checked out in a work tree of the repository
(moving it would make that work tree look as if every file had changed), or, when pushing, the
remote's branch and the local one each have commits the other lacks (the push would be rejected).
A local branch that merely lags behind the remote's (deployed from another clone) is caught up:
the new commit goes on top of the remote's.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .errors import DeployError

log = logging.getLogger(__name__)

CNAME = "CNAME"

# Signs the commit when git knows no one (a fresh CI machine): git would refuse to commit otherwise.
FALLBACK_NAME = "teachkit"
FALLBACK_EMAIL = "teachkit@localhost"

GITHUB_REMOTE = re.compile(
    r"^(?:https?://(?:[^@/]+@)?github\.com/|git@github\.com:|ssh://git@github\.com(?::\d+)?/)"
    r"(?P<owner>[^/]+)/(?P<repo>[^/]+?)(?:\.git)?/?$",
    re.IGNORECASE,
)
# The user:token@ part of an https remote (a CI secret): never printed.
CREDENTIALS = re.compile(r"(?i)\b(https?://)[^/@\s]+@")


@dataclass(frozen=True)
class Git:
    """The git program, run on one repository."""

    program: str
    top: Path  # the work tree holding the project file
    git_dir: Path

    def run(
        self, *args: str, env: dict[str, str] | None = None, cwd: Path | None = None, stdin: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        """Runs `git ARGS` (never failing itself: callers read returncode and stderr)."""
        return _git(self.program, *args, env=env, cwd=cwd or self.top, stdin=stdin)

    def output(self, *args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> str:
        """Runs `git ARGS` and returns its output; a failure here is a bug or a broken repository."""
        done = self.run(*args, env=env, cwd=cwd)
        if done.returncode != 0:
            command = " ".join(arg for arg in args if not arg.startswith("-"))[:60]
            raise DeployError(f"git {command} failed in {self.top}: {git_reason(done.stderr)}")
        return done.stdout.strip()

    def commit_of(self, ref: str) -> str | None:
        done = self.run("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
        return done.stdout.strip() if done.returncode == 0 else None

    def is_ancestor(self, older: str, newer: str) -> bool:
        return self.run("merge-base", "--is-ancestor", older, newer).returncode == 0


def _git(
    program: str, *args: str, env: dict[str, str] | None = None, cwd: Path, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [program, *args], cwd=cwd, env=env, input=stdin, capture_output=True, text=True, check=False
    )


def git_reason(stderr: str, lines: int = 4) -> str:
    """git's own words, briefly: its error lines without the advice and progress around them."""
    said = [line.strip() for line in stderr.splitlines() if line.strip()]
    errors = [line for line in said if not line.startswith(("hint:", "To ", "Enumerating", "Counting"))]
    return shown("\n".join((errors or said)[-lines:])) or "(git said nothing)"


@dataclass(frozen=True)
class Target:
    """Where the site goes, checked before anything is built."""

    git: Git
    branch: str
    remote: str
    push: bool
    remote_url: str | None  # None when the remote does not exist and nothing is pushed
    parent: str | None  # the commit the site's commit goes on top of; None: the branch starts now
    local: str | None  # the local branch's tip now (update-ref checks it did not move meanwhile)

    @property
    def pages_url(self) -> str | None:
        return github_pages_url(self.remote_url) if self.remote_url else None


@dataclass(frozen=True)
class Deployed:
    target: Target
    commit: str
    message: str

    def summary(self) -> str:
        target = self.target
        where = f"the branch {target.branch}"
        lines = []
        if target.push:
            lines.append(
                f"Deployed {self.commit[:7]} to {where} of {target.remote} ({shown(target.remote_url)})."
            )
        else:
            lines.append(f"Committed the site as {self.commit[:7]} to {where}; nothing was pushed.")
            lines.append(f"Publish it with: git push {target.remote} {target.branch}")
        if target.pages_url:
            lines.append(
                f"The site {'will be' if target.push else 'would be'} at {target.pages_url} once GitHub "
                f'Pages serves the branch: Settings → Pages → Source "Deploy from a branch", '
                f"{target.branch}, / (root)."
            )
        return "\n".join(lines)


def shown(url: str) -> str:
    """A remote's URL as it may be printed: without the credentials some URLs carry."""
    return CREDENTIALS.sub(r"\1", url)


def github_pages_url(remote_url: str) -> str | None:
    """https://OWNER.github.io/REPO/ for a GitHub remote (the user site for OWNER.github.io)."""
    found = GITHUB_REMOTE.match(remote_url.strip())
    if not found:
        return None
    owner, repo = found["owner"].lower(), found["repo"]
    if repo.lower() == f"{owner}.github.io":
        return f"https://{owner}.github.io/"
    return f"https://{owner}.github.io/{repo}/"


def find_git() -> str:
    program = shutil.which("git")
    if program is None:
        raise DeployError(
            "git is not installed, or not on PATH; teachkit deploy commits and pushes the site with it.\n"
            "Hint: install git (https://git-scm.com/downloads), open a new terminal and run the command "
            "again."
        )
    return program


def open_repository(program: str, project_file: Path) -> Git:
    """The git repository whose work tree holds the project file."""
    folder = project_file.resolve().parent
    done = _git(program, "rev-parse", "--show-toplevel", "--absolute-git-dir", cwd=folder)
    if done.returncode != 0:
        if "not a git repository" in done.stderr.lower():
            raise DeployError(
                f"{project_file} is not in a git repository, so there is no branch to commit the site "
                "to.\nHint: put the project in a clone of your GitHub repository (git clone URL), or make "
                f"one here: git init, git add, git commit, then git remote add origin "
                "https://github.com/USER/REPO.git."
            )
        raise DeployError(f"git cannot use the repository of {project_file}: {git_reason(done.stderr)}")
    top, git_dir = done.stdout.splitlines()[:2]
    return Git(program, Path(top), Path(git_dir))


def check_branch_free(git: Git, branch: str) -> None:
    """Refuses a branch checked out in a work tree: moving it would change what that tree shows."""
    if git.run("check-ref-format", "--branch", branch).returncode != 0:
        raise DeployError(
            f"--branch {branch!r} is not a valid branch name.\nHint: use e.g. --branch gh-pages."
        )
    current = git.run("symbolic-ref", "--quiet", "HEAD").stdout.strip()
    if current == f"refs/heads/{branch}":
        raise DeployError(
            f"{branch} is the branch checked out in {git.top}; deploy puts the built site there in place "
            "of your files, so it must be another branch.\n"
            f"Hint: switch to your source branch (git switch main) or deploy to another branch with --branch."
        )
    worktree = None
    for line in git.output("worktree", "list", "--porcelain").splitlines():
        if line.startswith("worktree "):
            worktree = line.removeprefix("worktree ")
        elif line == f"branch refs/heads/{branch}":
            raise DeployError(
                f"{branch} is checked out in the work tree {worktree}; deploying would move it under that "
                "tree's files.\n"
                f"Hint: switch that work tree to another branch (git -C {worktree} switch main) or remove "
                "it (git worktree remove), or deploy to another branch with --branch."
            )


def remote_url(git: Git, remote: str) -> str | None:
    done = git.run("remote", "get-url", remote)
    return done.stdout.strip() if done.returncode == 0 else None


def missing_remote(git: Git, remote: str) -> DeployError:
    names = git.output("remote").split()
    have = f"its remotes are {', '.join(names)}" if names else "it has none"
    return DeployError(
        f"the repository {git.top} has no remote named {remote} ({have}), so there is nowhere to push "
        "the site.\n"
        f"Hint: connect it to your GitHub repository (git remote add {remote} "
        "https://github.com/USER/REPO.git), name another remote with --remote, or commit without "
        "pushing with --no-push."
    )


def _remote_tip(git: Git, remote: str, url: str, branch: str) -> str | None:
    """The remote's branch tip, fetched so that it can be a parent; None if it has no such branch."""
    done = git.run("ls-remote", "--heads", remote, f"refs/heads/{branch}")
    if done.returncode != 0:
        raise DeployError(
            f"cannot reach the remote {remote} ({shown(url)}): {git_reason(done.stderr)}\n"
            "Hint: check its address (git remote -v), your network, and that you may read and push "
            "there; or commit without pushing with --no-push."
        )
    heads = [line.split()[0] for line in done.stdout.splitlines() if line.endswith(f"refs/heads/{branch}")]
    if not heads:
        return None
    if git.commit_of(heads[0]) is None:
        log.info("Fetching %s from %s", branch, remote)
        fetched = git.run(
            "fetch", "--no-tags", remote, f"+refs/heads/{branch}:refs/remotes/{remote}/{branch}"
        )
        if fetched.returncode != 0:
            raise DeployError(
                f"cannot fetch {branch} from {remote} ({shown(url)}): {git_reason(fetched.stderr)}"
            )
    return heads[0]


def _parent(
    git: Git, remote: str, branch: str, local: str | None, published: str | None, push: bool
) -> str | None:
    """The local tip, or the remote's when the local branch is missing or lags behind it."""
    if published is None or published == local:
        return local
    if local is None or git.is_ancestor(local, published):
        return published
    if git.is_ancestor(published, local) or not push:
        return local  # commits from an earlier --no-push or failed push are pushed with this one
    raise DeployError(
        f"the branch {branch} here ({local[:7]}) and {branch} on {remote} ({published[:7]}) each have "
        "commits the other lacks, so pushing would be rejected.\n"
        f"Hint: to keep what {remote} has, run git branch -f {branch} {remote}/{branch} and deploy again; "
        f"to replace it with your local branch, run git push --force {remote} {branch} first."
    )


def prepare_target(project_file: Path, remote: str, branch: str, push: bool) -> Target:
    """Every check that needs no build: git, the repository, the branch, the remote and its branch."""
    git = open_repository(find_git(), project_file)
    check_branch_free(git, branch)
    url = remote_url(git, remote)
    if push and url is None:
        raise missing_remote(git, remote)
    local = git.commit_of(f"refs/heads/{branch}")
    if push:
        published = _remote_tip(git, remote, url, branch)
    else:  # no network: what the last fetch saw, if anything
        published = git.commit_of(f"refs/remotes/{remote}/{branch}") if url else None
    parent = _parent(git, remote, branch, local, published, push)
    return Target(git, branch, remote, push, url, parent, local)


def default_message(git: Git, version: str) -> str:
    """Names the source commit and teachkit's version, as gh-deploy does."""
    source = git.commit_of("HEAD")
    if source is None:
        return f"Deployed with teachkit version {version} (the source branch has no commit yet)"
    # --no-optional-locks: a plain status would refresh, that is rewrite, the author's index.
    changed = git.output("--no-optional-locks", "status", "--porcelain", "--untracked-files=no")
    return (
        f"Deployed {source}{' plus uncommitted changes' if changed else ''} with teachkit version {version}"
    )


def _identity_env(git: Git) -> dict[str, str]:
    """GIT_AUTHOR_*/GIT_COMMITTER_* only where git knows no one to sign the commit with."""
    known = all(
        git.run("var", ident).returncode == 0 for ident in ("GIT_AUTHOR_IDENT", "GIT_COMMITTER_IDENT")
    )
    if known:
        return {}
    name = git.run("config", "user.name").stdout.strip() or FALLBACK_NAME
    email = git.run("config", "user.email").stdout.strip() or FALLBACK_EMAIL
    log.warning(
        "git has no name or email to sign the commit with; signing it as %s <%s> "
        '(set yours with git config --global user.name "Your Name" and user.email)',
        name,
        email,
    )
    return {
        "GIT_AUTHOR_NAME": name,
        "GIT_AUTHOR_EMAIL": email,
        "GIT_COMMITTER_NAME": name,
        "GIT_COMMITTER_EMAIL": email,
    }


def _keep_custom_domain(git: Git, parent: str | None, site: Path) -> None:
    """Carries over the CNAME file GitHub commits to the branch when a custom domain is set in
    Settings → Pages: without it the next deploy would switch the custom domain off."""
    if parent is None or (site / CNAME).exists():
        return
    done = git.run("cat-file", "blob", f"{parent}:{CNAME}")
    if done.returncode == 0:
        (site / CNAME).write_text(done.stdout, newline="")


def commit_site(target: Target, site: Path, message: str) -> str:
    """Commits the folder `site` (plus .nojekyll, and the branch's CNAME if it has one) on top of
    target.parent and moves the branch to it."""
    git = target.git
    (site / ".nojekyll").write_bytes(b"")
    _keep_custom_domain(git, target.parent, site)
    env = {**os.environ, **_identity_env(git)}
    with tempfile.TemporaryDirectory(prefix="teachkit-deploy-") as scratch:
        # A private index, and the site as work tree: the repository's own index and files stay as
        # they are. --force: the author's ignore rules are for their sources, not for the site.
        staging = {**env, "GIT_INDEX_FILE": str(Path(scratch) / "index")}
        site_tree = ("--git-dir", str(git.git_dir), "--work-tree", str(site))
        raw = ("-c", "core.autocrlf=false", "-c", "core.safecrlf=false")
        git.output(*site_tree, *raw, "add", "--all", "--force", ".", env=staging, cwd=site)
        tree = git.output(*site_tree, "write-tree", env=staging, cwd=site)
    parents = ["-p", target.parent] if target.parent else []
    done = git.run("commit-tree", tree, *parents, "-F", "-", env=env, stdin=message)
    if done.returncode != 0:
        raise DeployError(f"git could not commit the site: {git_reason(done.stderr)}")
    commit = done.stdout.strip()
    moved = git.run(
        "update-ref", "-m", "teachkit deploy", f"refs/heads/{target.branch}", commit, target.local or ""
    )
    if moved.returncode != 0:
        raise DeployError(
            f"the branch {target.branch} changed while the site was built; nothing was committed.\n"
            f"Hint: run teachkit deploy again. (git said: {git_reason(moved.stderr)})"
        )
    return commit


def push_branch(target: Target, commit: str) -> None:
    log.info("Pushing %s to %s", target.branch, target.remote)
    ref = f"refs/heads/{target.branch}"
    done = target.git.run("push", target.remote, f"{ref}:{ref}")
    if done.returncode != 0:
        raise DeployError(
            f"pushing {target.branch} to {target.remote} ({shown(target.remote_url)}) failed:\n"
            f"{git_reason(done.stderr)}\n"
            f"The site is committed to the local branch {target.branch} ({commit[:7]}); {target.remote} is "
            "unchanged.\n"
            f"Hint: fix what git says above and run teachkit deploy again, or push it yourself: git push "
            f"{target.remote} {target.branch}."
        )


def publish(target: Target, site: Path, message: str) -> Deployed:
    """Commits the built `site` to the target branch and pushes it unless told not to."""
    commit = commit_site(target, site, message)
    if target.push:
        push_branch(target, commit)
    return Deployed(target, commit, message)
