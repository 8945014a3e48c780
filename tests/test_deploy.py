"""`teachkit deploy` through the CLI against real git repositories: a source repository holding the
example project and a local bare repository as its remote. Three real builds, made once by the
`deploys` fixture; the error cases stop before building."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from builder import __version__
from builder.deploy import github_pages_url, shown

from .support.site import run_cli

REPO = Path(__file__).resolve().parent.parent
DEMO = REPO / "examples" / "demo" / "project.toml"
SITE_FILES = {"index.html", "manifest.json", "model/model.json", "NOTICE.txt", ".nojekyll"}
REJECTING_HOOK = "#!/bin/sh\necho 'site pushes are closed today' >&2\nexit 1\n"


def git(cwd: Path, *args: str) -> str:
    """The test's own git commands (with an identity, which the deploys themselves may lack)."""
    done = subprocess.run(
        ["git", "-c", "user.name=Test Author", "-c", "user.email=test@example.com", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


def isolate_git(patch: pytest.MonkeyPatch, home: Path, config: str = "") -> None:
    """No system or user git configuration but `config`: as on a fresh CI machine."""
    home.mkdir(parents=True, exist_ok=True)
    (home / "gitconfig").write_text(config)
    patch.setenv("HOME", str(home))
    patch.setenv("GIT_CONFIG_GLOBAL", str(home / "gitconfig"))
    patch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    patch.setenv("GIT_CEILING_DIRECTORIES", str(home.parent))
    for name in ("GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL", "EMAIL"):
        patch.delenv(name, raising=False)


def source_repository(root: Path, remote: Path | None = None) -> Path:
    """A repository on branch main with the example project committed in a subfolder, and a bare
    repository as its origin."""
    source = root / "source"
    (source / "myproject").mkdir(parents=True)
    # A web server serves the site, so deploy builds the hosted one even for this mode.
    project = DEMO.read_text().replace('mode = "hosted"', 'mode = "single_file"')
    assert 'mode = "single_file"' in project
    (source / "myproject" / "project.toml").write_text(project)
    (source / ".gitignore").write_text("dist/\n*.html\n")  # the author's rules must not thin the site
    git(source, "init", "--quiet", "--initial-branch=main")
    git(source, "add", ".")
    git(source, "commit", "--quiet", "-m", "The example project")
    if remote is not None:
        git(root, "init", "--quiet", "--bare", str(remote))
        git(source, "remote", "add", "origin", str(remote))
    return source / "myproject" / "project.toml"


@dataclass(frozen=True)
class Snapshot:
    """What the author has checked out: none of it may change."""

    head: str
    branch: str
    index: bytes
    status: str
    project: str

    @classmethod
    def of(cls, source: Path) -> Snapshot:
        return cls(
            git(source, "rev-parse", "HEAD"),
            git(source, "symbolic-ref", "HEAD"),
            (source / ".git" / "index").read_bytes(),
            # --no-optional-locks: a plain status may rewrite the index this compares.
            git(source, "--no-optional-locks", "status", "--porcelain", "--untracked-files=all"),
            (source / "myproject" / "project.toml").read_text(),
        )


@dataclass(frozen=True)
class Deploy:
    output: str
    exit_code: int
    before: Snapshot
    after: Snapshot
    local_tip: str | None  # gh-pages in the source repository afterwards
    remote_tip: str | None  # gh-pages in the bare repository afterwards


def tip(repository: Path, branch: str = "gh-pages") -> str | None:
    done = subprocess.run(
        ["git", "rev-parse", "--verify", "--quiet", f"refs/heads/{branch}"],
        cwd=repository,
        capture_output=True,
        text=True,
    )
    return done.stdout.strip() or None


def parents(repository: Path, commit: str) -> list[str]:
    return git(repository, "rev-list", "--parents", "-n", "1", commit).split()[1:]


@dataclass(frozen=True)
class Deploys:
    source: Path
    bare: Path
    head: str  # the source commit
    first: Deploy  # --no-push, to a GitHub-style second remote, with no git identity configured
    second: Deploy  # pushed to origin, with --message and the repository's own identity
    elsewhere: str  # a commit GitHub put on origin's gh-pages after the second deploy (a CNAME)
    third: Deploy  # catches up with origin, then origin's hook refuses the push


@pytest.fixture(scope="module")
def deploys(tmp_path_factory: pytest.TempPathFactory, model_cache: Path) -> Deploys:
    root = tmp_path_factory.mktemp("deploy")
    bare = root / "origin.git"
    with pytest.MonkeyPatch.context() as patch:
        isolate_git(patch, root / "home", "[user]\n\tuseConfigOnly = true\n")
        project = source_repository(root, bare)
        source = project.parent.parent
        git(source, "remote", "add", "github", "git@github.com:Ada-L/Leaves.git")
        (source / "notes.txt").write_text("untracked, and left alone\n")
        head = git(source, "rev-parse", "HEAD")

        def deploy(*args: str) -> Deploy:
            before = Snapshot.of(source)
            result = run_cli("deploy", project, *args)
            return Deploy(
                result.output, result.exit_code, before, Snapshot.of(source), tip(source), tip(bare)
            )

        first = deploy("--no-push", "--remote", "github")
        git(source, "config", "user.name", "Ada Lovelace")
        git(source, "config", "user.email", "ada@example.com")
        second = deploy("--message", "Publish the leaves")
        # What GitHub commits when a custom domain is set in Settings → Pages.
        cname = subprocess.run(
            ["git", "hash-object", "-w", "--stdin"],
            cwd=bare,
            input="leaves.example.edu\n",
            text=True,
            capture_output=True,
            check=True,
        ).stdout.strip()
        listing = git(bare, "ls-tree", "gh-pages") + f"\n100644 blob {cname}\tCNAME\n"
        tree = subprocess.run(
            ["git", "mktree"], cwd=bare, input=listing, text=True, capture_output=True, check=True
        ).stdout.strip()
        elsewhere = git(bare, "commit-tree", tree, "-p", "gh-pages", "-m", "Create CNAME")
        git(bare, "update-ref", "refs/heads/gh-pages", elsewhere)
        hook = bare / "hooks" / "pre-receive"
        hook.write_text(REJECTING_HOOK)
        hook.chmod(0o755)
        with (source / "myproject" / "project.toml").open("a") as edited:
            edited.write("# an edit not committed yet\n")
        third = deploy()
    return Deploys(source, bare, head, first, second, elsewhere, third)


def test_deploy_pushes_the_site_with_nojekyll_to_gh_pages(deploys):
    second = deploys.second
    assert second.exit_code == 0, second.output
    assert second.remote_tip == second.local_tip
    bare = deploys.bare
    paths = set(git(bare, "ls-tree", "-r", "--name-only", second.remote_tip).splitlines())
    manifest = json.loads(git(bare, "show", f"{second.remote_tip}:manifest.json"))
    assert paths == {entry["path"] for entry in manifest["files"]} | {"manifest.json", ".nojekyll"}
    assert SITE_FILES <= paths
    assert manifest["mode"] == "hosted"  # though the project's output.mode is single_file
    for entry in manifest["files"]:  # the very files the build wrote, not text-converted or filtered
        blob = subprocess.run(
            ["git", "cat-file", "blob", f"{second.remote_tip}:{entry['path']}"],
            cwd=bare,
            capture_output=True,
            check=True,
        ).stdout
        assert hashlib.sha256(blob).hexdigest() == entry["sha256"], entry["path"]
    assert git(bare, "cat-file", "-s", f"{second.remote_tip}:.nojekyll") == "0"
    assert "project.toml" not in paths and "notes.txt" not in paths
    assert f"Deployed {second.local_tip[:7]} to the branch gh-pages of origin ({bare})." in second.output


def test_a_second_deploy_adds_a_commit_on_top_of_the_first(deploys):
    first, second = deploys.first, deploys.second
    assert first.exit_code == 0, first.output
    assert parents(deploys.bare, second.remote_tip) == [first.local_tip]
    assert parents(deploys.source, first.local_tip) == []
    assert git(deploys.bare, "log", "-1", "--format=%s%n%an <%ae>", second.remote_tip) == (
        "Publish the leaves\nAda Lovelace <ada@example.com>"
    )


def test_the_source_branch_index_and_files_are_untouched(deploys):
    for deploy in (deploys.first, deploys.second, deploys.third):
        assert deploy.after == deploy.before
    assert deploys.first.before.head == deploys.third.after.head == deploys.head
    assert deploys.third.after.branch == "refs/heads/main"
    assert deploys.third.after.status == "M myproject/project.toml\n?? notes.txt"


def test_no_push_commits_locally_and_names_the_github_pages_address(deploys):
    first = deploys.first
    assert first.remote_tip is None  # origin never got the branch
    assert first.output.endswith(
        f"Committed the site as {first.local_tip[:7]} to the branch gh-pages; nothing was pushed.\n"
        "Publish it with: git push github gh-pages\n"
        "The site would be at https://ada-l.github.io/Leaves/ once GitHub Pages serves the branch: "
        'Settings → Pages → Source "Deploy from a branch", gh-pages, / (root).\n'
    ), first.output


def test_default_message_names_the_source_commit_and_version(deploys):
    first_message = git(deploys.source, "log", "-1", "--format=%B", deploys.first.local_tip)
    assert first_message == f"Deployed {deploys.head} with teachkit version {__version__}"
    third_message = git(deploys.source, "log", "-1", "--format=%B", deploys.third.local_tip)
    assert (
        third_message
        == f"Deployed {deploys.head} plus uncommitted changes with teachkit version {__version__}"
    )


def test_without_a_git_identity_the_commit_is_signed_as_teachkit(deploys):
    assert git(deploys.source, "log", "-1", "--format=%an <%ae>|%cn <%ce>", deploys.first.local_tip) == (
        "teachkit <teachkit@localhost>|teachkit <teachkit@localhost>"
    )
    assert "warning: git has no name or email to sign the commit with" in deploys.first.output


def test_a_local_branch_behind_the_remote_catches_up_and_keeps_githubs_cname(deploys):
    third = deploys.third
    assert parents(deploys.source, third.local_tip) == [deploys.elsewhere]
    assert git(deploys.source, "show", f"{third.local_tip}:CNAME") == "leaves.example.edu"
    assert "CNAME" in git(deploys.source, "diff", "--name-only", deploys.second.local_tip, third.local_tip)


def test_a_failed_push_shows_gits_reason_and_keeps_the_local_commit(deploys):
    third = deploys.third
    assert third.exit_code == 1
    assert "Traceback" not in third.output
    assert third.remote_tip == deploys.elsewhere  # origin unchanged
    assert f"error: pushing gh-pages to origin ({deploys.bare}) failed:\n" in third.output
    assert "remote: site pushes are closed today" in third.output
    assert "[remote rejected] gh-pages -> gh-pages (pre-receive hook declined)" in third.output
    assert third.output.endswith(
        f"The site is committed to the local branch gh-pages ({third.local_tip[:7]}); origin is unchanged.\n"
        "Hint: fix what git says above and run teachkit deploy again, or push it yourself: git push origin "
        "gh-pages.\n"
    ), third.output


@pytest.fixture
def git_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    isolate_git(monkeypatch, tmp_path / "home")
    return tmp_path


def refused(*args: object) -> str:
    """Runs a deploy that must stop before building, with exit code 1 and one message."""
    result = run_cli("deploy", *args)
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output and "Bundling" not in result.output, result.output
    assert result.output.count("error: ") == 1, result.output
    return result.output[result.output.index("error: ") :]


def test_error_without_git_on_path(git_home, monkeypatch):
    project = source_repository(git_home, git_home / "origin.git")
    monkeypatch.setenv("PATH", str(git_home / "home"))
    assert refused(project) == (
        "error: git is not installed, or not on PATH; teachkit deploy commits and pushes the site with "
        "it.\nHint: install git (https://git-scm.com/downloads), open a new terminal and run the command "
        "again.\n"
    )


def test_error_outside_a_git_repository(git_home):
    project = git_home / "plain" / "project.toml"
    project.parent.mkdir()
    shutil.copy(DEMO, project)
    assert refused(project) == (
        f"error: {project} is not in a git repository, so there is no branch to commit the site to.\n"
        "Hint: put the project in a clone of your GitHub repository (git clone URL), or make one here: "
        "git init, git add, git commit, then git remote add origin https://github.com/USER/REPO.git.\n"
    )


def test_error_when_the_target_branch_is_checked_out(git_home):
    project = source_repository(git_home, git_home / "origin.git")
    source = project.parent.parent
    git(source, "switch", "--quiet", "-c", "gh-pages")
    assert refused(project) == (
        f"error: gh-pages is the branch checked out in {source}; deploy puts the built site there in "
        "place of your files, so it must be another branch.\n"
        "Hint: switch to your source branch (git switch main) or deploy to another branch with --branch.\n"
    )
    git(source, "switch", "--quiet", "main")
    git(source, "worktree", "add", "--quiet", str(git_home / "pages"), "gh-pages")
    assert refused(project, "--no-push") == (
        f"error: gh-pages is checked out in the work tree {git_home / 'pages'}; deploying would move it "
        "under that tree's files.\n"
        f"Hint: switch that work tree to another branch (git -C {git_home / 'pages'} switch main) or "
        "remove it (git worktree remove), or deploy to another branch with --branch.\n"
    )
    assert "must be another branch" in refused(project, "--branch", "main")
    assert refused(project, "--branch", "bad..name") == (
        "error: --branch 'bad..name' is not a valid branch name.\nHint: use e.g. --branch gh-pages.\n"
    )


def test_error_without_the_remote(git_home):
    project = source_repository(git_home)
    source = project.parent.parent
    assert refused(project) == (
        f"error: the repository {source} has no remote named origin (it has none), so there is nowhere to "
        "push the site.\nHint: connect it to your GitHub repository (git remote add origin "
        "https://github.com/USER/REPO.git), name another remote with --remote, or commit without pushing "
        "with --no-push.\n"
    )
    git(source, "remote", "add", "upstream", str(git_home / "nowhere.git"))
    assert "(its remotes are upstream)" in refused(project, "--remote", "github")
    message = refused(project, "--remote", "upstream")
    assert message.startswith(f"error: cannot reach the remote upstream ({git_home / 'nowhere.git'}): ")
    assert "does not appear to be a git repository" in message
    assert tip(source) is None
    git(source, "remote", "set-url", "upstream", "https://x-access-token:SECRET@127.0.0.1:1/socr/leaves.git")
    message = refused(project, "--remote", "upstream")
    assert message.startswith(
        "error: cannot reach the remote upstream (https://127.0.0.1:1/socr/leaves.git): "
    )
    assert "SECRET" not in message


def test_error_when_the_remote_branch_has_diverged(git_home):
    bare = git_home / "origin.git"
    project = source_repository(git_home, bare)
    source = project.parent.parent
    tree = git(source, "rev-parse", "HEAD^{tree}")
    ours = git(source, "commit-tree", tree, "-m", "Deployed here")
    git(source, "update-ref", "refs/heads/gh-pages", ours)
    git(source, "push", "--quiet", "origin", "gh-pages")
    theirs = git(bare, "commit-tree", tree, "-p", ours, "-m", "Deployed elsewhere")
    git(bare, "update-ref", "refs/heads/gh-pages", theirs)
    mine = git(source, "commit-tree", tree, "-p", ours, "-m", "Deployed here again, not pushed")
    git(source, "update-ref", "refs/heads/gh-pages", mine)
    assert refused(project) == (
        f"error: the branch gh-pages here ({mine[:7]}) and gh-pages on origin ({theirs[:7]}) each have "
        "commits the other lacks, so pushing would be rejected.\n"
        "Hint: to keep what origin has, run git branch -f gh-pages origin/gh-pages and deploy again; to "
        "replace it with your local branch, run git push --force origin gh-pages first.\n"
    )
    assert tip(source) == mine and tip(bare) == theirs


@pytest.mark.parametrize(
    ("url", "pages"),
    [
        ("https://github.com/Ada-L/leaves.git", "https://ada-l.github.io/leaves/"),
        ("https://github.com/Ada-L/leaves", "https://ada-l.github.io/leaves/"),
        ("https://token@github.com/socr/teach.kit/", "https://socr.github.io/teach.kit/"),
        ("git@github.com:socr/leaves.git", "https://socr.github.io/leaves/"),
        ("ssh://git@github.com:22/socr/leaves.git", "https://socr.github.io/leaves/"),
        ("git@github.com:Ada-L/ada-l.github.io.git", "https://ada-l.github.io/"),
        ("https://gitlab.com/socr/leaves.git", None),
        ("/srv/git/leaves.git", None),
    ],
)
def test_github_pages_address_from_the_remote_url(url, pages):
    assert github_pages_url(url) == pages


def test_credentials_in_a_remote_url_are_not_shown():
    assert (
        shown("https://x-access-token:ghs_abc@github.com/socr/leaves.git")
        == "https://github.com/socr/leaves.git"
    )
    assert (
        shown("fatal: unable to access 'http://TOKEN@host/x/': refused")
        == "fatal: unable to access 'http://host/x/': refused"
    )
    assert shown("git@github.com:socr/leaves.git") == "git@github.com:socr/leaves.git"
