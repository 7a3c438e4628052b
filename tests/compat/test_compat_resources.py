"""Resources as Dagster's resource guide uses them: plain-typed parameters, nested resources,
resources configured at launch, and environment variables read when a run uses them."""

import pytest
from compat_target import dg


class Credentials:
    """A plain object, not a ConfigurableResource."""

    def __init__(self, user: str):
        self.user = user


def test_a_resource_param_is_a_resource_not_an_upstream_asset():
    @dg.asset
    def banner(title: dg.ResourceParam[str]) -> str:
        return title.upper()

    defs = dg.Definitions(assets=[banner], resources={"title": "weekly report"})

    result = defs.resolve_implicit_global_asset_job_def().execute_in_process()
    assert result.output_for_node("banner") == "WEEKLY REPORT"
    assert dg.materialize([banner], resources={"title": "x"}).output_for_node("banner") == "X"


def test_a_resource_param_can_hold_any_object():
    @dg.asset
    def whoami(credentials: dg.ResourceParam[Credentials]) -> str:
        return credentials.user

    result = dg.materialize([whoami], resources={"credentials": Credentials("ada")})
    assert result.output_for_node("whoami") == "ada"


class Session(dg.ConfigurableResource):
    token: str

    def header(self) -> str:
        return f"Bearer {self.token}"


class ApiClient(dg.ConfigurableResource):
    base_url: str
    session: Session

    def get(self, path: str) -> str:
        return f"GET {self.base_url}/{path} ({self.session.header()})"


@dg.asset
def users(client: ApiClient) -> str:
    return client.get("users")


def test_a_resource_can_hold_another_resource():
    client = ApiClient(base_url="https://api", session=Session(token="t0"))

    result = dg.materialize([users], resources={"client": client})
    assert result.output_for_node("users") == "GET https://api/users (Bearer t0)"


class Lifecycle(dg.ConfigurableResource):
    name: str

    def setup_for_execution(self, context) -> None:
        EVENTS.append(f"setup {self.name}")

    def teardown_after_execution(self, context) -> None:
        EVENTS.append(f"teardown {self.name}")


class Outer(dg.ConfigurableResource):
    inner: Lifecycle

    def setup_for_execution(self, context) -> None:
        EVENTS.append("setup outer")


EVENTS: list[str] = []


def test_a_nested_resource_is_set_up_for_the_run_before_the_one_holding_it():
    @dg.asset
    def uses_outer(outer: Outer) -> str:
        return outer.inner.name

    EVENTS.clear()
    result = dg.materialize([uses_outer], resources={"outer": Outer(inner=Lifecycle(name="db"))})

    assert result.output_for_node("uses_outer") == "db"
    assert EVENTS == ["setup db", "setup outer", "teardown db"]


class Holder(dg.ConfigurableResource):
    credentials: dg.ResourceDependency[Credentials]


def test_a_resource_dependency_holds_a_plain_object():
    @dg.asset
    def holder_user(holder: Holder) -> str:
        return holder.credentials.user

    result = dg.materialize(
        [holder_user], resources={"holder": Holder(credentials=Credentials("bo"))}
    )
    assert result.output_for_node("holder_user") == "bo"


class Warehouse(dg.ConfigurableResource):
    schema_name: str
    region: str = "eu"


@dg.asset
def warehouse_table(warehouse: Warehouse) -> str:
    return f"{warehouse.region}:{warehouse.schema_name}.orders"


def test_a_resource_configured_at_launch_takes_the_run_config():
    defs = dg.Definitions(
        assets=[warehouse_table], resources={"warehouse": Warehouse.configure_at_launch()}
    )

    result = defs.resolve_implicit_global_asset_job_def().execute_in_process(
        run_config={"resources": {"warehouse": {"config": {"schema_name": "analytics"}}}}
    )
    assert result.output_for_node("warehouse_table") == "eu:analytics.orders"


def test_a_resource_configured_at_launch_without_its_config_fails_the_run():
    defs = dg.Definitions(
        assets=[warehouse_table], resources={"warehouse": Warehouse.configure_at_launch()}
    )

    with pytest.raises(dg.DagsterInvalidConfigError, match="schema_name"):
        defs.resolve_implicit_global_asset_job_def().execute_in_process()


class Database(dg.ConfigurableResource):
    password: str

    def masked(self) -> str:
        return self.password[0] + "***"


@dg.asset
def db_login(database: Database) -> str:
    return database.masked()


def test_an_env_var_is_read_when_the_run_uses_the_resource(monkeypatch):
    monkeypatch.delenv("COMPAT_DB_PASSWORD", raising=False)
    defs = dg.Definitions(
        assets=[db_login],
        resources={"database": Database(password=dg.EnvVar("COMPAT_DB_PASSWORD"))},
    )  # building the definitions does not read it

    monkeypatch.setenv("COMPAT_DB_PASSWORD", "secret")
    result = defs.resolve_implicit_global_asset_job_def().execute_in_process()
    assert result.output_for_node("db_login") == "s***"

    monkeypatch.setenv("COMPAT_DB_PASSWORD", "other")
    result = defs.resolve_implicit_global_asset_job_def().execute_in_process()
    assert result.output_for_node("db_login") == "o***"


def test_a_missing_env_var_is_an_error_naming_it(monkeypatch):
    monkeypatch.delenv("COMPAT_MISSING_PASSWORD", raising=False)
    resources = {"database": Database(password=dg.EnvVar("COMPAT_MISSING_PASSWORD"))}

    with pytest.raises(dg.DagsterInvalidConfigError, match="COMPAT_MISSING_PASSWORD"):
        dg.materialize([db_login], resources=resources)


def test_an_env_var_value_can_be_read_directly(monkeypatch):
    monkeypatch.setenv("COMPAT_REGION", "us")

    assert dg.EnvVar("COMPAT_REGION").get_value() == "us"
    assert dg.EnvVar("COMPAT_UNSET_VAR").get_value(default="eu") == "eu"


def test_an_op_takes_a_resource_param_too():
    @dg.op
    def greet(name: dg.ResourceParam[str]) -> str:
        return f"hello {name}"

    @dg.job
    def greeting_job():
        greet()

    result = greeting_job.execute_in_process(resources={"name": "ada"})
    assert result.output_for_node("greet") == "hello ada"
