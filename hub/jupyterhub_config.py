"""JupyterHub configuration of the dlnotes course hub (``make hub`` and the hub test).

Everything that differs between hubs (ports, accounts, folders) comes from the
JSON file named by ``$DLNOTES_HUB_SETTINGS``, written by ``dlnotes_course.hub``.
A course on a real server can start from this file: PAM logins of the
machine's accounts, each user's server started as that user by
LocalProcessSpawner from the shared environment in ``prefix``, and nbgrader
set up for the course (``docs/course.md``).
"""

import json
import os

s = json.load(open(os.environ["DLNOTES_HUB_SETTINGS"]))
c = get_config()  # noqa: F821

c.JupyterHub.bind_url = f"http://127.0.0.1:{s['port']}"
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = s["hub_port"]
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{s['proxy_api_port']}"
c.ConfigurableHTTPProxy.command = [s["proxy"]]
c.ConfigurableHTTPProxy.pid_file = os.path.join(s["state"], "proxy.pid")
c.JupyterHub.db_url = "sqlite:///" + os.path.join(s["state"], "jupyterhub.sqlite")
c.JupyterHub.cookie_secret_file = os.path.join(s["state"], "cookie_secret")

c.JupyterHub.authenticator_class = "pam"
c.PAMAuthenticator.open_sessions = False
c.Authenticator.allowed_users = set([s["instructor"], *s["students"]])

c.JupyterHub.spawner_class = "localprocess"
c.Spawner.cmd = [os.path.join(s["prefix"], "bin", "jupyterhub-singleuser")]
c.Spawner.default_url = "/lab"
c.Spawner.notebook_dir = "~"
c.Spawner.start_timeout = 120
c.Spawner.http_timeout = 120


def per_user(spawner):
    """Students get nbgrader's student parts only; the instructor gets the formgrader."""
    config_path = [s["jupyter_config"]]
    if spawner.user.name != s["instructor"]:
        config_path.insert(0, s["student_config"])
    else:
        spawner.environment["DLNOTES_ROOT"] = s["instructor_root"]
    spawner.environment.update({
        "JUPYTER_CONFIG_PATH": os.pathsep.join(config_path),
        "PATH": os.path.join(s["prefix"], "bin") + ":/usr/local/bin:/usr/bin:/bin",
    })


c.Spawner.pre_spawn_hook = per_user

if s.get("driver_token"):
    # the hub test drives the hub through its REST API with this service's token
    c.JupyterHub.services = [{"name": "dlnotes-driver", "api_token": s["driver_token"]}]
    c.JupyterHub.load_roles = [{
        "name": "dlnotes-driver",
        "scopes": ["admin:users", "admin:servers", "tokens", "read:users"],
        "services": ["dlnotes-driver"],
    }]
