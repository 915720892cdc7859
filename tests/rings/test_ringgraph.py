"""networkx work on one ring: who holds it together, how two members connect, the picture."""

from __future__ import annotations

import networkx as nx

from rings.ringgraph import picture_png, shortest_link, structure


def star_and_tail() -> nx.Graph:
    graph = nx.Graph()
    for app in ("A1", "A2", "A3"):
        graph.add_node(app, kind="Application")
        graph.add_edge(app, "Device:0")
    graph.nodes["Device:0"]["kind"] = "Device"
    graph.add_node("A4", kind="Application")
    graph.add_node("BankAccount:1", kind="BankAccount")
    graph.add_edges_from([("A3", "BankAccount:1"), ("BankAccount:1", "A4")])
    return graph


def test_the_shared_device_is_central_and_the_account_a_bridge() -> None:
    shape = structure(star_and_tail())
    assert shape["central"][0][0] == "Device:0"
    assert ("A3", "BankAccount:1") in shape["bridges"] or ("BankAccount:1", "A3") in shape[
        "bridges"]
    assert shape["components"] == 1


def test_shortest_link_names_the_chain_of_identifiers() -> None:
    assert shortest_link(star_and_tail(), "A1", "A4") == ["A1", "Device:0", "A3",
                                                           "BankAccount:1", "A4"]
    assert shortest_link(star_and_tail(), "A1", "nobody") == []


def test_the_picture_is_a_png() -> None:
    png = picture_png(star_and_tail(), "Ring R-TEST")
    assert png.startswith(b"\x89PNG") and len(png) > 5_000
