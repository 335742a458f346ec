def tenancy(request):
    return {"account": getattr(request, "account", None)}
