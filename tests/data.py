"""Constant test data shared by several test packages (fixtures stay in conftest.py files)."""

# A complete mainland address, as a member types it (the phone without +86, a space in the street number).
ADDRESS = {
    "recipient": "王小明",
    "phone": "13800138000",
    "province": "上海市",
    "city": "上海市",
    "district": "浦东新区",
    "detail": "世纪大道 100 号",
    "postal_code": "200120",
}
