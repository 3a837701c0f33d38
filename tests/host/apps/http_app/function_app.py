"""HTTP test app: routes, methods, auth levels, sync and async functions, settings."""

import json
import logging
import os

import azure.functions as func

app = func.FunctionApp(http_auth_level=func.AuthLevel.FUNCTION)


@app.route(route="hello/{name}", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
def hello(req: func.HttpRequest) -> func.HttpResponse:
    logging.info("greeting %s", req.route_params["name"])
    return func.HttpResponse(f"hello {req.route_params['name']}")


@app.route(route="items/{id:int}", methods=["GET", "POST"])
def item(req: func.HttpRequest) -> func.HttpResponse:
    payload = {"id": req.route_params["id"], "method": req.method, "params": dict(req.params)}
    return func.HttpResponse(json.dumps(payload), mimetype="application/json", status_code=201)


@app.route(route="files/{*path}", auth_level=func.AuthLevel.ANONYMOUS)
def files(req: func.HttpRequest) -> str:
    return f"file {req.route_params['path']}"


@app.route(route="files/readme", auth_level=func.AuthLevel.ANONYMOUS)
def readme(req: func.HttpRequest) -> str:
    return "the readme"


@app.route(route="optional/{name?}", auth_level=func.AuthLevel.ANONYMOUS)
def optional(req: func.HttpRequest) -> str:
    return req.route_params.get("name", "<none>")


@app.route(auth_level=func.AuthLevel.ADMIN)
def admin_only(req: func.HttpRequest) -> str:
    return "admin ok"


@app.route(route="echo", methods=["POST"], auth_level=func.AuthLevel.ANONYMOUS)
async def echo(req: func.HttpRequest, context: func.Context) -> func.HttpResponse:
    return func.HttpResponse(
        req.get_body(),
        mimetype="application/octet-stream",
        headers={"x-invocation-id": context.invocation_id, "x-function": context.function_name},
    )


@app.route(route="setting/{name}", auth_level=func.AuthLevel.ANONYMOUS)
def setting(req: func.HttpRequest) -> str:
    return os.environ.get(req.route_params["name"], "<unset>")


@app.route(route="broken", auth_level=func.AuthLevel.ANONYMOUS)
def broken(req: func.HttpRequest) -> func.HttpResponse:
    raise ValueError("broken on purpose")


@app.route(route="nothing", auth_level=func.AuthLevel.ANONYMOUS)
def nothing(req: func.HttpRequest) -> None:
    return None
