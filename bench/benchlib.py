"""What the benchmarks share: a local docker-registry and a busybox base
image, both built from what Debian ships (nothing is pulled)."""
import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LocalRegistry:
    """Debian's docker-registry on 127.0.0.1 with its own storage, answering
    before the block starts, stopped and removed after it:
        with LocalRegistry() as reg: ... reg.host ...
    """

    def __enter__(self):
        self.dir = tempfile.mkdtemp(prefix="mlrepo-bench-registry-")
        self.port = free_port()
        self.host = f"127.0.0.1:{self.port}"
        config = os.path.join(self.dir, "config.yml")
        with open(config, "w") as f:
            f.write(f"version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {self.dir}/data\n"
                    f"  delete:\n    enabled: true\nhttp:\n  addr: {self.host}\n")
        self.process = subprocess.Popen(["docker-registry", "serve", config],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(200):
            try:
                urllib.request.urlopen(f"http://{self.host}/v2/", timeout=2).close()
                return self
            except (OSError, urllib.error.URLError):
                if self.process.poll() is not None:
                    break
                time.sleep(0.05)
        self.__exit__(None, None, None)
        raise SystemExit(f"docker-registry did not answer on {self.host}")

    def __exit__(self, *exc):
        self.process.terminate()
        self.process.wait()
        shutil.rmtree(self.dir, ignore_errors=True)
        return False


def busybox(image, env=None):
    """A FROM-scratch image holding Debian's static busybox as `image`."""
    if subprocess.run(["docker", "image", "inspect", image], capture_output=True).returncode == 0:
        return image
    ctx = tempfile.mkdtemp()
    try:
        shutil.copy("/bin/busybox", os.path.join(ctx, "busybox"))
        with open(os.path.join(ctx, "Dockerfile"), "w") as f:
            f.write('FROM scratch\nCOPY busybox /bin/busybox\nRUN ["/bin/busybox", "--install", "-s", "/bin"]\n')
        subprocess.run(["docker", "build", "-q", "-t", image, ctx], check=True, capture_output=True,
                       env=dict(env or os.environ, DOCKER_BUILDKIT="0"))
    finally:
        shutil.rmtree(ctx)
    return image
