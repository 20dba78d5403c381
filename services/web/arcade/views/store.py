"""The store: list items, buy one with coins (one transaction)."""

from __future__ import annotations

from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue

from arcade import db
from arcade.errors import ApiError
from arcade.views.body import int_field, json_object

bp = Blueprint("store", __name__)


@bp.get("/store")
def items() -> ResponseReturnValue:
    """Every item for sale with its price in coins."""
    rows = db.fetch_all("SELECT id, name, price_coins AS price FROM store_items ORDER BY price_coins, id")
    return jsonify(items=rows)


@bp.post("/store/purchase")
def purchase() -> ResponseReturnValue:
    """Buy an item: lock the player, check and take the coins, record the purchase."""
    body = json_object()
    player_id, item_id = int_field(body, "player_id", minimum=1), int_field(body, "item_id", minimum=1)
    with db.transaction() as cur:
        cur.execute("SELECT coins FROM players WHERE id = %s FOR UPDATE", (player_id,))
        player = cur.fetchone()
        if player is None:
            raise ApiError(404, "not_found", f"unknown player {player_id}")
        cur.execute("SELECT price_coins FROM store_items WHERE id = %s", (item_id,))
        item = cur.fetchone()
        if item is None:
            raise ApiError(404, "not_found", f"unknown item {item_id}")
        price, coins = item["price_coins"], player["coins"]
        if coins < price:
            raise ApiError(409, "insufficient_coins", f"the item costs {price} coins, the player has {coins}")
        cur.execute("UPDATE players SET coins = coins - %s WHERE id = %s RETURNING coins", (price, player_id))
        left = cur.fetchone()
        cur.execute(
            "INSERT INTO purchases (player_id, item_id, price_coins) VALUES (%s, %s, %s) RETURNING id",
            (player_id, item_id, price),
        )
        bought = cur.fetchone()
    assert left is not None and bought is not None  # RETURNING always yields a row here
    return jsonify(purchase_id=bought["id"], coins_left=left["coins"])
