"""The route table: every path the browser may call, which service owns it, and its wire shapes.

Routing (app/api/gateway.py) and the OpenAPI document (app/openapi.py) are both built from
this one table, so what is served and what is documented cannot part ways. Paths keep the
exact trailing slash the POS frontend uses (API.md §12.2); the shared app defaults serve the
other form too, without a redirect. A route with a view of its own names it here; the view is
called with the Route it serves, so no handler module imports this table.
"""
from __future__ import annotations

from . import schemas as s
from .api import consulting as consulting_views
from .api import costs as cost_views
from .api import docs as doc_views
from .route import Route

ROUTES: list[Route] = [
    # store (API.md §2): sign-up, login and the username check are public
    Route("POST", "/stores/", "store", "Sign a store up; answers its token", s.SignedUp, status=201,
          auth=False, body=s.SignUp, errors=(409, 429, 503)),
    Route("POST", "/stores/login", "store", "Log in", s.LoggedIn, auth=False, body=s.Login, errors=(429, 503)),
    Route("GET", "/stores/check", "store", "Is a username free?", s.Verdict, auth=False, query=s.UsernameQuery),
    Route("GET", "/stores/", "store", "The caller's store", s.StoreProfile),
    Route("POST", "/stores/pwcheck", "store", "Does the password match? (a match lets this token change the "
          "password once within 10 minutes)", s.Verdict, body=s.PasswordCheck, errors=(429, 503)),
    Route("PUT", "/stores/<int:store_id>", "store", "Change the caller's own password (after a matching "
          "POST /stores/pwcheck by the same token) or time zone",
          s.StoreUpdated, body=s.StoreUpdate, errors=(403,)),

    # item (API.md §3)
    Route("GET", "/categories/", "item", "The store's categories, oldest first", s.CategoryList),
    Route("POST", "/categories/", "item", "Add a category", s.Created, status=201, body=s.CategoryForm,
          errors=(409,)),
    Route("PUT", "/categories/<int:category_id>", "item", "Rename a category (answers 201)", s.Created,
          status=201, body=s.CategoryForm, errors=(404, 409)),
    Route("DELETE", "/categories/<int:category_id>", "item", "Delete a category", s.CategoryDeleted,
          errors=(404,)),
    Route("GET", "/categories/items", "item", "The menu: categories with their items", s.Menu),
    Route("POST", "/categories/<int:category_id>/items", "item", "Add an item to a category", s.Created,
          status=201, body=s.ItemForm, errors=(404, 409)),
    Route("PUT", "/categories/items/<int:item_id>", "item", "Change an item", s.ItemChanged, body=s.ItemUpdate,
          errors=(404, 409)),
    Route("DELETE", "/categories/items/<int:item_id>", "item", "Delete an item", s.ItemChanged, errors=(404,)),

    # order (API.md §4)
    Route("POST", "/orders/", "order", "Open a table's order", s.OrderResult, body=s.OrderForm,
          errors=(404, 409, 422), idempotent=True),
    Route("PUT", "/orders/", "order", "Replace the cart of a table's open order", s.OrderResult,
          body=s.OrderForm, errors=(404, 409, 422), idempotent=True),
    Route("GET", "/orders/unpaids", "order", "Every open table of the store", s.UnpaidOrders),
    Route("GET", "/orders/unpaids/<int:table_no>", "order", "One table's open order", s.UnpaidTable),
    Route("DELETE", "/orders/<int:table_no>", "order", "Cancel a table's open order", s.OrderCancelled),

    # sale (API.md §5)
    Route("POST", "/sales/", "sale", "Pay a table", s.Paid, status=201, body=s.Payment,
          errors=(404, 409, 422), idempotent=True),
    Route("GET", "/sales/", "sale", "The store's payments, a page at a time, newest first", s.SaleList,
          query=s.SalesPageQuery),
    Route("DELETE", "/sales/<int:sale_id>", "sale", "Refund a payment", s.Refunded, errors=(404, 409)),
    Route("GET", "/sales/daily", "sale", "Revenue of one business day", s.DailyRevenue, query=s.DayQuery,
          report=True),
    Route("GET", "/sales/period", "sale", "Revenue of a period", s.PeriodRevenue, query=s.PeriodQuery,
          report=True),

    # dashboard (API.md §6, §8.1)
    Route("GET", "/bff/sales", "dashboard", "Sales and profit per item (the pie chart)", s.SalesReport,
          upstream="/dashboard/sales", query=s.PeriodQuery, report=True),
    Route("GET", "/bff/volumes", "dashboard", "Sales and profit per day (the line chart)", s.VolumesReport,
          upstream="/dashboard/volumes", query=s.PeriodQuery, report=True),
    Route("GET", "/dashboard/calculate", "dashboard", "Send the day's settlement SMS", s.Settled,
          query=s.SettlementQuery, errors=(429, 503), starts_work=True, report=True),
    Route("GET", "/dashboard/consulting/<req_id>", "dashboard", "A finished consulting's text", s.ConsultingText,
          errors=(404,)),
    Route("GET", "/dashboard/consulting/test/<req_id>", "dashboard", "A finished consulting's text",
          s.ConsultingText, errors=(404,)),
    Route("GET", "/bff/costs", "item", "Item costs grouped by category", s.Costs, handler=cost_views.list_costs),
    Route("POST", "/bff/costs", "item", "Set item costs (the nested shape back; null leaves a cost)",
          s.CostsSaved, body=s.CostsForm, errors=(404,), handler=cost_views.save_costs),

    # consulting (API.md §7)
    Route("GET", "/consulting/", "consulting", "Start a consulting job over a period", s.ConsultingJob,
          query=s.PeriodQuery, errors=(429,), starts_work=True),
    Route("GET", "/consulting/<req_id>", "consulting", "A consulting job's state", s.ConsultingStatus,
          errors=(404,), handler=consulting_views.consulting_status),
    Route("GET", "/consulting/test", "consulting", "Start a consulting job over a period", s.ConsultingJob,
          query=s.PeriodQuery, errors=(429,), starts_work=True),
    Route("GET", "/consulting/test/<req_id>", "consulting", "A consulting job's state", s.ConsultingStatus,
          errors=(404,), handler=consulting_views.consulting_status),

    # this document
    Route("GET", "/openapi.json", None, "This API as an OpenAPI document", s.OpenApiDocument, auth=False,
          handler=doc_views.openapi_document),
    Route("GET", "/docs", None, "This API, browsable", None, auth=False, handler=doc_views.browsable_docs,
          content_type="text/html"),
    Route("GET", "/docs/swagger-ui.css", None, "Swagger UI's style sheet, for /docs", None, auth=False,
          handler=doc_views.docs_file, content_type="text/css"),
    Route("GET", "/docs/swagger-ui-bundle.js", None, "Swagger UI's script, for /docs", None, auth=False,
          handler=doc_views.docs_file, content_type="text/javascript"),
    Route("GET", "/docs/docs.js", None, "The script that starts Swagger UI on /docs", None, auth=False,
          handler=doc_views.docs_file, content_type="text/javascript"),
]

# Served by the shared service defaults (salesync_common.health), listed so the document is complete.
SHARED_ROUTES: list[Route] = [
    Route("GET", "/healthz", None, "The process answers", s.Health, auth=False),
    Route("GET", "/readyz", None, "Ready to serve (the BFF has no database to check)", s.Readiness, auth=False),
    Route("GET", "/metrics", None, "Prometheus metrics of this process", None, auth=False,
          content_type="text/plain"),
]


def documented_routes() -> list[Route]:
    return ROUTES + SHARED_ROUTES
