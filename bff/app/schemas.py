"""The public wire shapes of the BFF (API.md §12): request bodies, query strings and replies.

The OpenAPI document is generated from these models and the route table. Only POST /bff/costs
is validated here at run time (the BFF reshapes it); every other body goes to its owning service
untouched, and that service's rules decide. The tests check every request they send and every
reply they get through the BFF against these models (a success reply exactly: a field a service adds
that is not here fails them), so the document follows the wire.
"""
from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr, StringConstraints

# GET /bff/sales answers the dashboard's sales report as it is: its one model is the contract's.
# The sale and dashboard reports pass through unchanged: the BFF documents them with their contracts.
from salesync_common.contracts.dashboard import ItemSales, SalesReport  # noqa: F401
from salesync_common.contracts.sales import DailyRevenue, DayRevenue, PeriodRevenue  # noqa: F401
from salesync_common.field_types import Won as WholeWon

STORE_TYPES = Literal["휴게음식점", "일반음식점", "단란주점업", "유흥주점업", "위탁급식업", "제과점업"]

Id = Annotated[StrictInt, Field(gt=0, description="a positive integer id")]
Won = Annotated[StrictInt, Field(ge=0, description="an amount in whole won")]
TableNo = Annotated[StrictInt, Field(ge=0, le=99, description="0 is the kiosk; the POS shows tables 1-8")]
Day = Annotated[StrictStr, StringConstraints(pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"),
                Field(description="a business day as YYYY-MM-DD")]
# The POS sends prices typed into a text box as strings ("2000"); the item service accepts both.
PriceInput = Annotated[StrictInt | Annotated[StrictStr, StringConstraints(pattern=r"^\s*[0-9]+\s*$")],
                       Field(description="whole won, as an integer or a string of digits")]


CostInput = Annotated[WholeWon, Field(description="whole won")]


# ---- request bodies and query strings -------------------------------------------------------

class SignUp(BaseModel):
    """The client-side rules of the sign-up screen (API.md §12.3); the store service enforces them."""
    username: Annotated[StrictStr, StringConstraints(pattern=r"^[A-Za-z0-9]{8,16}$")]
    password: Annotated[StrictStr, Field(min_length=10, max_length=16,
                                         description="lower, upper, digit and one of @$!%*?&")]
    owner_name: Annotated[StrictStr, Field(min_length=2, max_length=20)]
    phone: Annotated[StrictStr, StringConstraints(pattern=r"^[0-9]{11}$")]
    store_name: Annotated[StrictStr, Field(min_length=1, max_length=100)]
    address: Annotated[StrictStr, Field(min_length=1, max_length=200)]
    store_type: STORE_TYPES
    time_zone: StrictStr | None = Field(None, description="IANA time zone of the business day; default Asia/Seoul")


class Login(BaseModel):
    username: StrictStr
    password: StrictStr


class PasswordCheck(BaseModel):
    password: StrictStr


class StoreUpdate(BaseModel):
    """Only the caller's own store; send password or time_zone."""
    password: StrictStr | None = None
    time_zone: StrictStr | None = None


class UsernameQuery(BaseModel):
    username: StrictStr


class CategoryForm(BaseModel):
    name: Annotated[StrictStr, Field(min_length=1, max_length=50)]


class ItemForm(BaseModel):
    name: Annotated[StrictStr, Field(min_length=1, max_length=100)]
    price: PriceInput


class ItemUpdate(ItemForm):
    category_id: Id | None = Field(None, description="moves the item to another category of the store")


class CartLine(BaseModel):
    item_id: Id
    quantity: Annotated[StrictInt, Field(ge=1, le=999)]


class OrderForm(BaseModel):
    """An empty cart cancels the table's open order."""
    table_no: TableNo
    carts: list[CartLine]


class Payment(BaseModel):
    table_no: TableNo
    payment_type: Literal["현금", "카드", "cash", "card"]
    total_price: Annotated[PriceInput, Field(description="must equal the order's total, else 409")]


class DayQuery(BaseModel):
    date: Day


class PeriodQuery(BaseModel):
    start: Day
    end: Day


class SalesPageQuery(BaseModel):
    limit: Annotated[StrictInt, Field(ge=1, le=500, description="sales on the page, newest first: 1 to "
                                      "SALESYNC_SALES_PAGE_MAX (default 500); without it "
                                      "SALESYNC_SALES_PAGE_DEFAULT (default 100)")] | None = None
    cursor: StrictStr | None = Field(None, description="the next_cursor of the previous page, as it was "
                                                       "returned; any other value answers 400")


class SettlementQuery(BaseModel):
    date: Day
    resend: Literal["true", "false"] | None = Field(None, description="true sends the settlement SMS again")


class CostItemForm(BaseModel):
    item_id: Id
    cost: CostInput | None = Field(description="null leaves the item's cost unchanged")
    name: str | None = Field(None, description="sent back as received; ignored")
    price: int | str | None = Field(None, description="sent back as received; ignored")


class CostCategoryForm(BaseModel):
    category_id: Id
    category_name: StrictStr
    items: list[CostItemForm]


class CostsForm(BaseModel):
    """The nested shape GET /bff/costs answered, with edited costs."""
    items: list[CostCategoryForm]
    effective_date: Day | None = Field(None, description="first business day of the new costs; default today")


# ---- replies ----------------------------------------------------------------------------------

class Result(BaseModel):
    result: StrictStr
    message: StrictStr


class Tokens(BaseModel):
    access_token: StrictStr
    csrf_token: StrictStr = Field(description="opaque; send it back as X-CSRF-Token (accepted and ignored)")


class SignedUp(Result):
    store_id: Id
    token: Tokens


class LoggedIn(BaseModel):
    result: Literal["success"]
    store_id: Id
    access_token: StrictStr
    csrf_token: StrictStr


class Verdict(BaseModel):
    """`failed` is an answer, not an error: the username is taken, or the password does not match."""
    result: Literal["success", "failed"]
    message: StrictStr


class Store(BaseModel):
    store_id: Id
    username: StrictStr
    owner_name: StrictStr
    phone: StrictStr
    store_name: StrictStr
    address: StrictStr
    store_type: StrictStr
    time_zone: StrictStr | None = None


class StoreProfile(BaseModel):
    store: Store


class StoreUpdated(Result):
    store_id: Id


class Category(BaseModel):
    id: Id
    name: StrictStr


class CategoryList(BaseModel):
    """Ascending by id: the last one is the newest."""
    categories: list[Category]
    store_id: Id


class Created(Result):
    id: Id


class CategoryDeleted(Result):
    category_id: Id


class MenuItem(BaseModel):
    item_id: Id
    name: StrictStr
    price: Won
    cost: Won | None


class MenuCategory(BaseModel):
    category_id: Id
    category_name: StrictStr
    items: list[MenuItem]


class Menu(BaseModel):
    categories: list[MenuCategory]


class ItemChanged(Result):
    item_id: Id


class OrderResult(BaseModel):
    """success: placed or changed; failed: an empty cart and no open order; cancelled: an empty cart closed it."""
    result: Literal["success", "failed", "cancelled"]
    message: StrictStr
    table_no: TableNo
    order_id: Id | None = None
    total_price: Won | None = None


class CartView(BaseModel):
    item_id: Id
    item_name: StrictStr
    quantity: Annotated[StrictInt, Field(ge=1)]
    unit_price: Won


class UnpaidOrder(BaseModel):
    order_id: Id
    order_date: StrictStr | None
    table_no: TableNo
    total_price: Won
    carts: list[CartView]


class UnpaidOrders(Result):
    store_id: Id
    orders: list[UnpaidOrder]


class UnpaidTable(Result):
    """Always has carts: [] when the table has no open order."""
    store_id: Id
    order_id: Id | None
    order_date: StrictStr | None = Field(None, description="absent when the table has no open order")
    table_no: TableNo
    total_price: Won
    carts: list[CartView]


class OrderCancelled(Result):
    table_no: TableNo
    orders: list[Id]


class Paid(Result):
    id: Id
    order_id: Id
    table_no: TableNo
    total_price: Won


class Sale(BaseModel):
    id: Id
    order_id: Id | None
    table_no: TableNo | None
    total_price: Won
    sale_date: StrictStr
    payment_type: StrictStr
    payment_method: StrictStr
    refunded_at: StrictStr | None


class SaleList(BaseModel):
    """A page of the store's completed sales, newest first (by payment time, then id)."""
    sales: list[Sale]
    limit: Annotated[StrictInt, Field(ge=1, description="the page size this page was asked with")]
    next_cursor: StrictStr | None = Field(description="pass as cursor for the next page; null on the last page")


class Refunded(Result):
    sale_id: Id
    refund_id: Id
    amount: Won
    refunded_at: StrictStr


class DayVolume(BaseModel):
    date: StrictStr
    sales_volume: StrictInt
    profit: StrictInt
    cost_missing: StrictBool


class VolumesReport(Result):
    start_date: StrictStr
    end_date: StrictStr
    total: list[DayVolume]


class SettlementFigures(BaseModel):
    store_name: StrictStr
    date: StrictStr
    sales_volume: StrictInt
    payments: StrictInt
    refunds: StrictInt
    cash_total: StrictInt
    card_total: StrictInt
    profit: StrictInt
    cost_missing: StrictBool


class Settled(Result):
    """The day's settlement: sent by SMS, or only recorded (reason says why)."""
    sent: StrictBool
    channel: Literal["sms", "recorded"]
    already_sent: StrictBool = Field(description="the day's SMS was sent (or is being sent) by an earlier press, "
                                                 "or the day's messages are used up and its first record is shown")
    date: StrictStr
    figures: SettlementFigures
    text: StrictStr
    phone: StrictStr | None
    settlement_id: Id
    state: Literal["sending", "sent", "recorded"]
    reason: StrictStr | None = Field(description="why the text was only recorded: no_aws_credentials, "
                                                 "phone_not_mobile")


class ConsultingJob(BaseModel):
    req_id: StrictStr


class ConsultingStatus(BaseModel):
    result: Literal["not completed", "success", "failed"]
    message: StrictStr | None = None
    req_id: StrictStr | None = None
    source: StrictStr | None = Field(None, description="on success: openai, rule_based, or fallback (the rules "
                                                       "standing in for a model answer that could not be used)")
    error: StrictStr | None = Field(None, description="on failed: consulting_failed")


class ConsultingText(Result):
    req_id: StrictStr
    source: StrictStr | None = None
    consulting: StrictStr
    created_at: StrictStr = Field(description="when the text was written, ISO 8601")


class CostItem(BaseModel):
    item_id: Id
    name: StrictStr
    price: Won
    cost: Won | None


class CostCategory(BaseModel):
    category_id: Id
    category_name: StrictStr
    items: list[CostItem]


class Costs(Result):
    """The store's items grouped by category, in category order."""
    items: list[CostCategory]


class SavedCost(BaseModel):
    item_id: Id
    name: StrictStr
    category_id: Id
    price: Won
    cost: Won | None


class CostsSaved(Result):
    items: list[SavedCost]


class Health(BaseModel):
    status: StrictStr
    service: StrictStr


class Readiness(Health):
    checks: dict[str, str]


class OpenApiDocument(BaseModel):
    """This document."""
    model_config = ConfigDict(extra="allow")
    openapi: StrictStr


class Error(BaseModel):
    """Every 4xx and 5xx: field names the offending request field, where there is one."""
    model_config = ConfigDict(extra="allow")
    result: Literal["failed"]
    error: StrictStr
    message: StrictStr
    field: StrictStr | None = None
