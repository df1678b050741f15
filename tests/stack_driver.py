"""Runs Milvus 2.3.5 (the `milvus` wheel) against its dependencies over TLS
for tests/stack.rs: a real etcd 3.4 over mutual TLS and, optionally, a
SeaweedFS S3 server over TLS. Run inside private network, PID and mount
namespaces (unshare), as root: the fixed ports are free, nothing outside
reaches them, every process ends with the namespace, and the bind mounts
(/etc/hosts naming etcd and minio, the trust bundle over the system one)
are seen by nothing else.

  stack_driver.py config DATA_DIR
      Writes the server's own default configuration (DATA_DIR/configs/milvus.yaml).
  stack_driver.py run SPEC.json
      Starts what SPEC asks for, then Milvus, then (if it becomes healthy)
      creates, fills, indexes, loads, searches, lists and drops a
      collection. Prints one JSON object with what happened.
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import milvus
from milvus import MilvusServerConfig

HEALTH = "http://127.0.0.1:9091/healthz"


def config(data_dir):
    cfg = MilvusServerConfig(data_dir=data_dir)
    cfg.resolve()
    print(os.path.join(cfg.base_data_dir, "configs", "milvus.yaml"))


def tail(path, n=30):
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-n:])
    except OSError:
        return ""


def wait_port(port, limit, proc, log):
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"exited with {proc.returncode}:\n{tail(log)}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"port {port} not open in {limit} s:\n{tail(log)}")


def stop(proc):
    """By process id: SIGTERM, then SIGKILL, bounded."""
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=5)  # the namespace goes anyway: no need to be gentle
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


def start(args, log, **kw):
    f = open(log, "w")
    return subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=f, stderr=subprocess.STDOUT, **kw)


def bind(src, dst):
    subprocess.run(["mount", "--bind", src, dst], check=True)


def refusal(log, words):
    """The first line of the log holding all of `words`, if any."""
    if not words:
        return None
    with open(log, errors="replace") as f:
        for line in f:
            if all(w in line for w in words):
                return line.strip()[:600]
    return None


def healthy(proc, log, limit, refused=None):
    """Whether Milvus becomes healthy within `limit` seconds. A run that must
    fail names the log line that proves why (`refused`: words one line
    holds); it ends as soon as that line is written, instead of waiting out
    the limit: a server that refused its dependency's certificate does not
    come up later."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False, f"milvus exited with {proc.returncode}:\n{tail(log)}"
        line = refusal(log, refused)
        if line:
            return False, f"refused: {line}"
        try:
            with urllib.request.urlopen(HEALTH, timeout=2) as r:
                if b"OK" in r.read():
                    return True, ""
        except OSError:
            pass
        time.sleep(0.5)
    return False, f"not healthy in {limit} s:\n{tail(log)}"


def exercise(ca, limit):
    """A small collection through the TLS proxy: every step must work."""
    from pymilvus import Collection, CollectionSchema, DataType, FieldSchema, connections, utility

    deadline = time.monotonic() + limit
    while True:
        try:
            connections.connect(
                alias="default", host="localhost", port="19530", secure=True,
                server_pem_path=ca, server_name="localhost", timeout=10,
            )
            utility.list_collections(timeout=10)
            break
        except Exception as e:
            if time.monotonic() > deadline:
                return {"ok": False, "step": "connect", "error": f"{type(e).__name__}: {e}"[:800]}
            time.sleep(2)
    steps = {}
    step = "create"
    try:
        schema = CollectionSchema([
            FieldSchema("id", DataType.INT64, is_primary=True),
            FieldSchema("v", DataType.FLOAT_VECTOR, dim=4),
        ])
        c = Collection("stack_tls", schema, timeout=60)
        step = "insert"
        c.insert([list(range(50)), [[float(i), 1.0, 0.0, 0.5] for i in range(50)]], timeout=60)
        step = "flush"
        c.flush(timeout=120)
        steps["rows"] = c.num_entities
        step = "index"
        c.create_index("v", {"index_type": "FLAT", "metric_type": "L2", "params": {}}, timeout=120)
        step = "load"
        c.load(timeout=180)
        step = "search"
        res = c.search([[3.0, 1.0, 0.0, 0.5]], "v", {"metric_type": "L2", "params": {}}, limit=1, timeout=60)
        steps["nearest"] = res[0].ids[0]
        step = "list"
        steps["listed"] = "stack_tls" in utility.list_collections(timeout=30)
        step = "drop"
        c.release(timeout=60)
        utility.drop_collection("stack_tls", timeout=60)
        steps["after_drop"] = "stack_tls" in utility.list_collections(timeout=30)
        return {"ok": True, **steps}
    except Exception as e:
        return {"ok": False, "step": step, "error": f"{type(e).__name__}: {e}"[:800], **steps}


def run(spec_path):
    with open(spec_path) as f:
        spec = json.load(f)
    work = spec["work"]
    os.makedirs(work, exist_ok=True)
    out = {"label": spec["label"]}
    procs = []
    # /etc/hosts naming the Compose services, so the exported settings are
    # used as written (https://etcd:2379, minio:9000).
    bind(spec["hosts"], "/etc/hosts")
    if spec.get("bundle"):
        bind(spec["bundle"], "/etc/ssl/certs/ca-certificates.crt")
    try:
        e = spec["etcd"]
        etcd_log = os.path.join(work, "etcd.log")
        etcd = start([
            "etcd", "--name", "m1", "--data-dir", os.path.join(work, "etcd.data"),
            "--listen-client-urls", "https://127.0.0.1:2379",
            "--advertise-client-urls", "https://etcd:2379",
            "--listen-peer-urls", "http://127.0.0.1:2380",
            "--initial-advertise-peer-urls", "http://127.0.0.1:2380",
            "--initial-cluster", "m1=http://127.0.0.1:2380",
            "--cert-file", e["cert"], "--key-file", e["key"],
            "--trusted-ca-file", e["ca"], "--client-cert-auth",
        ], etcd_log)
        procs.append(etcd)
        wait_port(2379, 60, etcd, etcd_log)
        if spec.get("s3"):
            s = spec["s3"]
            s3_log = os.path.join(work, "weed.log")
            os.makedirs(os.path.join(work, "weed"), exist_ok=True)
            weed = start([
                spec["weed"], "server", "-dir", os.path.join(work, "weed"), "-ip", "127.0.0.1",
                "-ip.bind", "127.0.0.1", "-volume.port", "8081", "-filer", "-s3",
                "-s3.port", "8333", "-s3.port.https", "9000",
                "-s3.cert.file", s["cert"], "-s3.key.file", s["key"],
            ], s3_log)
            procs.append(weed)
            wait_port(9000, 90, weed, s3_log)
            wait_port(8333, 90, weed, s3_log)
        # The binaries are shared (unpacked once by `prepare`); the working
        # directory, whose configs/ Milvus 2.3 reads ($PWD/configs:
        # paramtable's base table), and the storage are this run's, so that
        # runs in separate namespaces can go at once.
        data_dir = spec["data"]
        exe = os.path.join(data_dir, "bin", "milvus")
        configs = os.path.join(work, "configs")
        os.makedirs(configs, exist_ok=True)
        for name in os.listdir(os.path.join(data_dir, "configs")):
            shutil.copyfile(os.path.join(data_dir, "configs", name), os.path.join(configs, name))
        with open(spec["config"]) as f:
            text = f.read()
        for sub in ("data", "logs"):
            text = text.replace(os.path.join(data_dir, sub), os.path.join(work, sub))
            os.makedirs(os.path.join(work, sub), exist_ok=True)
        with open(os.path.join(configs, "milvus.yaml"), "w") as f:
            f.write(text)
        env = dict(os.environ)
        env.update(
            DEPLOY_MODE="STANDALONE",
            METRICS_PORT="9091",
            MILVUS_RUN_DIR=os.path.join(work, "run"),
            LD_LIBRARY_PATH=":".join([os.path.dirname(exe), os.environ.get("LD_LIBRARY_PATH", "")]),
        )
        env.pop("SSL_CERT_FILE", None)
        log = os.path.join(work, "milvus.log")
        m = start([exe, "run", "standalone"], log, cwd=work, env=env)
        procs.append(m)
        ok, why = healthy(m, log, spec["wait"], spec.get("refused"))
        out["healthy"] = ok
        if why.startswith("refused: "):
            out["refused"] = why[len("refused: "):]
        elif not ok:
            out["why"] = why[-3000:]
        elif spec.get("exercise"):
            out["exercise"] = exercise(spec["ca"], 180)
            if not out["exercise"]["ok"]:
                out["log"] = tail(log, 40)
    except Exception as e:
        out["error"] = f"{type(e).__name__}: {e}"[-3000:]
    finally:
        for p in reversed(procs):
            stop(p)
    print(json.dumps(out))


if __name__ == "__main__":
    if sys.argv[1] == "config":
        config(sys.argv[2])
    elif sys.argv[1] == "prepare":
        milvus._initialize_data_files(sys.argv[2])
    elif sys.argv[1] == "run":
        run(sys.argv[2])
    else:
        sys.exit(f"unknown command {sys.argv[1]}")
