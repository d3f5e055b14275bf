app_name = "dualwrite"
urlpatterns = []
