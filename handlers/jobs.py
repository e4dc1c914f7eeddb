"""Scheduled work: expiring coupons."""

from __future__ import annotations

import logging

from handlers.common import Context, get_services, notify, say

logger = logging.getLogger(__name__)

EXPIRE_COUPONS_JOB = "expire-coupons"
EXPIRE_COUPONS_EVERY_SECONDS = 600


async def expire_coupons(context: Context) -> None:
    """Expire unused coupons past their date, refund them, and tell each customer."""
    expired = await get_services(context).coupons.expire_due()
    for view in expired:
        await notify(
            context,
            view.member.chat_id,
            say(
                context,
                "coupon_expired_notice",
                title=view.coupon.title,
                cost=view.coupon.cost,
                balance=view.member.balance,
            ),
        )
    if expired:
        logger.info("Expired and refunded %s coupons", len(expired))
