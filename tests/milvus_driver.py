"""Runs the real Milvus 2.3.5 server of the `milvus` wheel for tests/milvus.rs.

Run inside a private network namespace (`unshare -n`, loopback up), so the
server's fixed ports (19530, 9091, 2379, ...) are free and nothing outside
can reach it.

  milvus_driver.py config DATA_DIR
      Writes the server's own default configuration, DATA_DIR/configs/milvus.yaml,
      from the wheel's template (milvus.MilvusServerConfig), with its paths in
      DATA_DIR.
  milvus_driver.py prepare DATA_DIR
      Unpacks the server's binaries into DATA_DIR/bin (once for all runs).
  milvus_driver.py serve DATA_DIR BIN CERT_DIR RUN_DIR
      Starts DATA_DIR/bin/milvus in RUN_DIR, whose configs/ holds the
      milvus.yaml (and user.yaml, if any) to test, checks which pymilvus
      connections work, runs `BIN inspect --connect`, and stops the server
      by its process id. Prints one JSON object: {check: result}. Each
      serve runs in its own namespace, so several go at once.
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request

import milvus
from milvus import MilvusServerConfig

START_TIMEOUT = 120  # seconds; the server needs about 20
HEALTH = "http://127.0.0.1:9091/healthz"


def config(data_dir):
    cfg = MilvusServerConfig(data_dir=data_dir)
    cfg.resolve()  # binds the ports to check them, then writes the file
    print(os.path.join(cfg.base_data_dir, "configs", "milvus.yaml"))


def tail(log, n=40):
    with open(log, errors="replace") as f:
        return "".join(f.readlines()[-n:])


def wait_healthy(proc, log):
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"milvus exited with {proc.returncode}:\n{tail(log)}")
        try:
            with urllib.request.urlopen(HEALTH, timeout=2) as r:
                if b"OK" in r.read():
                    time.sleep(2)  # as MilvusServer.wait_started does, and a margin
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"milvus did not become healthy in {START_TIMEOUT} s:\n{tail(log)}")


def stop(proc):
    """Stops the server by its process id: SIGTERM, then SIGKILL, bounded."""
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=5)  # the namespace goes anyway: no need to be gentle
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


def try_connect(**kwargs):
    """Whether a pymilvus connection (and one RPC) works; the error if not."""
    from pymilvus import connections, utility

    alias = f"c{time.monotonic_ns()}"
    try:
        connections.connect(alias=alias, host="localhost", port="19530", timeout=8, **kwargs)
        utility.list_collections(using=alias, timeout=8)
        return {"ok": True}
    except Exception as e:  # pymilvus raises several kinds
        return {"ok": False, "error": f"{type(e).__name__}: {e}"[:500]}
    finally:
        try:
            connections.disconnect(alias)
        except Exception:
            pass


READY_TIMEOUT = 120  # seconds after /healthz for the proxy to answer a client


def checks(binary, cert_dir):
    ca = os.path.join(cert_dir, "ca.pem")
    tls = dict(secure=True, server_pem_path=ca, server_name="localhost")
    mutual = dict(
        secure=True,
        client_pem_path=os.path.join(cert_dir, "client.pem"),
        client_key_path=os.path.join(cert_dir, "client.key"),
        ca_pem_path=ca,
        server_name="localhost",
    )
    # /healthz can say OK before the proxy serves clients (and later on a
    # loaded machine): wait until one of the three ways works, so that a
    # failure below means "refused", not "not ready yet".
    deadline = time.monotonic() + READY_TIMEOUT
    while not any(try_connect(**kw)["ok"] for kw in (mutual, tls, {})):
        if time.monotonic() > deadline:
            break
    out = {
        "plaintext": try_connect(),
        "tls_one_way": try_connect(**tls),
        "tls_with_client_cert": try_connect(**mutual),
    }
    r = subprocess.run(
        [binary, "inspect", "--connect", "localhost:19530", "--dir", cert_dir, "--timeout", "10"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    out["inspect"] = {"code": r.returncode, "stdout": r.stdout, "stderr": r.stderr}
    return out


def prepare(data_dir):
    """Unpacks the server's binaries into DATA_DIR/bin, once for all runs."""
    milvus._initialize_data_files(data_dir)


def serve(data_dir, binary, cert_dir, run_dir):
    """One server: RUN_DIR/configs holds its milvus.yaml (and user.yaml),
    whose storage paths lie in RUN_DIR, so runs in separate namespaces can
    go at once. Milvus 2.3 reads configs/ in its working directory
    (paramtable's base table: MILVUSCONF unset, so $PWD/configs)."""
    exe = os.path.join(data_dir, "bin", "milvus")
    env = dict(os.environ)
    env.update(
        DEPLOY_MODE="STANDALONE",
        METRICS_PORT="9091",
        MILVUS_RUN_DIR=os.path.join(run_dir, "run"),
        LD_LIBRARY_PATH=":".join([os.path.dirname(exe), os.environ.get("LD_LIBRARY_PATH", "")]),
    )
    for sub in ("data", "logs", "run"):
        os.makedirs(os.path.join(run_dir, sub), exist_ok=True)
    # The wheel's other configuration files (glog.conf, ...), as they are.
    shared = os.path.join(data_dir, "configs")
    for name in os.listdir(shared):
        if not os.path.exists(os.path.join(run_dir, "configs", name)):
            shutil.copyfile(os.path.join(shared, name), os.path.join(run_dir, "configs", name))
    log = os.path.join(run_dir, "logs", "milvus.log")
    with open(log, "w") as logf:
        proc = subprocess.Popen(
            [exe, "run", "standalone"],
            cwd=run_dir,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=logf,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_healthy(proc, log)
            result = checks(binary, cert_dir)
        finally:
            stop(proc)
    print(json.dumps(result))


if __name__ == "__main__":
    if sys.argv[1] == "config":
        config(sys.argv[2])
    elif sys.argv[1] == "prepare":
        prepare(sys.argv[2])
    elif sys.argv[1] == "serve":
        serve(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5])
    else:
        sys.exit(f"unknown command {sys.argv[1]}")
