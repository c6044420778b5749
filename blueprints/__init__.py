"""Thin views: parse input, call one service, render."""
