"""Source attributions and image captions, recognised on lines taken from the real PDFs."""

from __future__ import annotations

import pytest

from rag.figure_notes import is_figure_note
from rag.intent import question_intent


@pytest.mark.parametrize(
    "line",
    [
        "(出典) Omdiaのデータを基に経済産業省作成",  # the deck, p.6
        "出典：（株）エネコートテクノロジーズ",  # the deck, p.41
        "(出所) WTO",  # the deck, p.26
        "・(出所) (株) 合同資源HP",
        "出所：積水化学工業（株）HP 出所：中央日本土地建物グループ・東京電力HD HPより一部加工",
        "（出典：消費者庁ウェブサイト）",  # the model work rules, p.89
        "Source: Cabinet Office",
        "【ペロブスカイト太陽電池イメージ】",
        "(千葉県でヨウ素の原料のかん水をくみ上げ、製造している様子)",
        "内幸町一丁目街区南地区第一種市街地再開発事業完成イメージ",  # the deck, p.42
    ],
)
def test_attributions_and_captions_are_figure_notes(line: str) -> None:
    assert is_figure_note(line)


@pytest.mark.parametrize(
    "line",
    [
        "【パワー半導体】",  # a label that names a thing
        "(製造装置・部素材・原料)",
        "出所不明の情報が拡散された場合の対応を定める。",
        "• 具体的な取組イメージを持つことで、各事業者が行動につなげやすくする",
        "写真のように現場の状況を記録する。",
    ],
)
def test_content_lines_are_not(line: str) -> None:
    assert not is_figure_note(line)


def test_a_question_about_sources_wants_them() -> None:
    assert question_intent("この図の出典は？").wants_source
    assert question_intent("What source does the slide cite for it?").wants_source
    assert not question_intent("特定重要物資は何？").wants_source
